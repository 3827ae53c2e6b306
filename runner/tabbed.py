"""MkDocs Material content tabs (``pymdownx.tabbed``) as a markdown-it block rule.

.. code-block:: markdown

    === "Python"

        ```python title="app/main.py"
        ...
        ```

A tab's content is every following line indented by four spaces more than the
``===`` marker (blank lines included), exactly as Python-Markdown reads it; without
this rule CommonMark sees an indented code block and the fence inside it is lost.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

# pymdownx.tabbed's start line: markers +, !, +!, !+; the title runs to the last quote,
# so it may itself hold quotes (=== "The "main" module").
TAB_LINE = re.compile(r'^===(?:\+!?|!\+?)? +".*" *$')
TAB_INDENT = 4


def tabbed(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    if state.is_code_block(start_line):
        return False
    start = state.bMarks[start_line] + state.tShift[start_line]
    line_text = state.src[start : state.eMarks[start_line]]
    if not line_text.startswith("===") or TAB_LINE.match(line_text) is None:
        return False
    if silent:
        return True
    content_indent = state.sCount[start_line] + TAB_INDENT
    next_line = start_line + 1
    while next_line < end_line:
        empty = state.bMarks[next_line] + state.tShift[next_line] >= state.eMarks[next_line]
        if not empty and state.sCount[next_line] < content_indent:
            break
        next_line += 1
    old = (state.parentType, state.lineMax, state.blkIndent)
    state.parentType = "tabbed"  # type: ignore[assignment]
    state.lineMax = next_line
    state.blkIndent = content_indent
    token = state.push("tabbed_open", "div", 1)
    token.block = True
    token.info = line_text[3:].strip()
    token.map = [start_line, next_line]
    state.md.block.tokenize(state, start_line + 1, next_line)
    state.push("tabbed_close", "div", -1).block = True
    state.parentType, state.lineMax, state.blkIndent = old
    state.line = next_line
    return True


def tabbed_plugin(md: MarkdownIt) -> None:
    md.block.ruler.before(
        "fence", "tabbed", tabbed, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )
