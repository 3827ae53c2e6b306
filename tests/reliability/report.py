"""docs/reliability.md from the long profile's figures."""

from __future__ import annotations

import datetime
from collections import Counter


def render(figures: Counter[str], note: str = "") -> str:
    rows = "\n".join(f"| {name} | {value:,} |" for name, value in sorted(figures.items()))
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""# Reliability figures

Measured by the runner's own tests in their long profile ({stamp}):

```bash
WF_FUZZ_PROFILE=long .venv/bin/pytest tests/reliability -q
```

The normal suite (and `.ci/run`) runs the same tests in the fast profile: fewer examples
and trials, fixed seeds. Every example below passed its contract; a failure stops the
run and leaves this file as it was.
{note}
| figure | value |
| --- | --- |
{rows}

What each test asserts:

- `test_fuzz_documents.py`: generated projects (fences of every kind and length, info
  strings with every target syntax, mode and attribute, hostile targets, front matter
  valid and broken: wrong types, syntax, nesting, alias bombs, huge, control characters;
  patch blocks with random diffs; Jinja with sandbox escapes and resource bombs; CRLF, CR,
  BOM, invalid UTF-8, NUL, binary garbage; lists and quotes; `requires` cycles and missing
  steps). Build exits 0, or 2 with one line `file:line: message` naming a file of the
  project, with nothing written; after exit 0, verify, a second build and list agree.
  No file appears outside `sdlc/` and `.wf/`.
- `test_hostile_paths.py`: a corpus of targets through every target syntax and through
  build, export and apply: each is written inside its folder or refused at its line.
- `test_crash_safety.py`: a build of 300 outputs SIGKILLed at a random moment: every
  file is fully old or fully new, the manifest parses, the next build repairs the tree
  to exactly the expected one and verify passes.
- `test_concurrency.py`: builds and verifies on one tree at once serialise on the lock;
  a lock held by a killed run is free again.
- `test_hand_edits.py`: build, run, apply and export never overwrite or delete an
  edited file without `--force`.
"""
