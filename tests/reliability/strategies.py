"""Hypothesis strategies for whole workflow projects, valid and hostile."""

from __future__ import annotations

from hypothesis import strategies as st

# Targets: ordinary, odd and hostile (every one must be written inside sdlc/ or refused).
HOSTILE_TARGETS = [
    "/etc/passwd",
    "/tmp/wf-escape.txt",
    "C:/x.txt",
    "c:\\x.txt",
    "../escape.txt",
    "a/../../escape.txt",
    "a/b/../../../escape.txt",
    "..",
    ".",
    "./",
    "a/",
    "a\\..\\..\\escape.txt",
    "%2e%2e/escape.txt",
    "..%2fescape.txt",
    ".git/hooks/post-checkout",
    ".GIT/config",
    ".git./x",
    "git~1/x",
    "\u200c.git/x",
    "a\x00b.txt",
    "a\nb.txt",
    "CON",
    "aux.txt",
    "trailing.",
    "name ",
    "x" * 300,
    "/".join(["d"] * 100),
    "/".join(["e" * 200] * 6),
    "caf\u00e9.txt",
    "cafe\u0301.txt",
    "\u2025/escape.txt",
    "\uff0e\uff0e/escape.txt",
    "a<b>.txt",
    "~/escape.txt",
    "$HOME/escape.txt",
    "{{ '../escape.txt' }}",
]
PLAIN_TARGETS = ["a.txt", "app/main.py", "app/x.py", "run.sh", "data/b.json", "a", "deep/er/c.md"]

targets = st.one_of(
    st.sampled_from(PLAIN_TARGETS),
    st.sampled_from(PLAIN_TARGETS),
    st.sampled_from(PLAIN_TARGETS),
    st.sampled_from(HOSTILE_TARGETS),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=20),
)

JINJA = [
    "{{ name }}",
    "{{ missing }}",
    "{{ 1/0 }}",
    "{{ 9**(9**9) }}",
    "{{ 'x' * 10**9 }}",
    "{{ 'x'|center(2000000000) }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.system('touch /tmp/wf-pwned') }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ range.__class__ }}",
    "{% set x = namespace(a=2) %}{% for i in range(40) %}{% set x.a = x.a * x.a %}{% endfor %}",
    "{{ (1,) * 10**8 }}",
    "{% include 'nothing' %}",
    "{{ ",
    "{% for %}",
    "${{ github.token }}",
]
ESCAPE_PAYLOADS = [j for j in JINJA if "__" in j or "system" in j or "popen" in j]

FENCES = ["```", "````", "~~~", "~~~~~"]
MODES = ["write", "append", "patch", "bogus"]
LANGS = ["python", "text", "bash", "diff", "", "yaml", "json", "toml"]


def _diff(rng: st.DrawFn, target: str) -> str:
    old = rng(st.lists(st.sampled_from(["a", "b", "c", "", "x = 1"]), max_size=4))
    new = rng(st.lists(st.sampled_from(["a", "b", "d", "y = 2"]), max_size=4))
    start = rng(st.integers(-1, 5))
    head = rng(st.sampled_from([f"--- a/{target}\n+++ b/{target}\n", "", "+++ b/other\n"]))
    body = "".join(f" {line}\n" for line in old[:1])
    body += "".join(f"-{line}\n" for line in old[1:]) + "".join(f"+{line}\n" for line in new)
    counts = rng(st.sampled_from([(len(old), len(old[:1]) + len(new)), (9, 9), (0, 0)]))
    return f"{head}@@ -{start},{counts[0]} +{start},{counts[1]} @@\n{body}"


@st.composite
def blocks(draw: st.DrawFn) -> str:
    fence = draw(st.sampled_from(FENCES))
    target = draw(targets)
    quoted = '"' + target.replace('"', "") + '"'
    syntax = draw(
        st.sampled_from(["path", "file", "filename", "title", "pandoc", "comment", "none"])
    )
    lang = draw(st.sampled_from(LANGS))
    extra = (
        []
        if draw(st.integers(0, 2))
        else draw(
            st.lists(
                st.sampled_from(
                    [
                        f"mode={draw(st.sampled_from(MODES))}",
                        "template",
                        "skeleton",
                        "check",
                        "name=x",
                        "timeout=1",
                        "timeout=-1",
                        "needs=postgres",
                        "bogus=1",
                        "chek",
                        'title="unbalanced',
                    ]
                ),
                max_size=3,
            )
        )
    )
    if syntax == "pandoc":
        info = f"{{.{lang or 'txt'} file={quoted} {' '.join(extra)}}}"
    elif syntax in ("comment", "none"):
        info = " ".join([lang, *extra])
    else:
        value = quoted if draw(st.booleans()) else target.replace(" ", "_")
        info = " ".join([lang, f"{syntax}={value}", *extra])
    kind = draw(
        st.sampled_from(["text", "text", "text", "jinja", "diff", "shebang", "empty", "long"])
    )
    if kind == "jinja":
        content = draw(st.lists(st.sampled_from(JINJA), min_size=1, max_size=3))
        body = "\n".join(content) + "\n"
    elif kind == "diff":
        body = _diff(draw, target)
    elif kind == "shebang":
        body = "#!/bin/sh\necho hi\n"
    elif kind == "empty":
        body = ""
    elif kind == "long":
        body = "y" * draw(st.integers(1000, 100_000)) + "\n"
    else:
        body = draw(st.text(max_size=80)) + "\n"
    if syntax == "comment":
        body = f"# path: {target}\n" + body
    indent = draw(st.sampled_from(["", "", "- ", "  ", "> "]))
    closing = "" if draw(st.integers(0, 19)) == 0 else fence  # sometimes never closed
    text = f"{fence}{info}\n{body}{closing}\n"
    return "".join(indent + line + "\n" for line in text.split("\n")[:-1]) if indent else text


def _bomb(levels: int) -> str:
    lines = ["  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        lines.append(f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    return "vars:\n" + "\n".join(lines) + "\n"


@st.composite
def front_matter(draw: st.DrawFn, number: int, count: int) -> str:
    choice = draw(
        st.sampled_from(
            [*["none"] * 3, *["valid"] * 4, "types", "yaml", "deep", "bomb", "huge", "controls"]
        )
    )
    if choice == "none":
        return ""
    if choice == "valid":
        requires = draw(st.lists(st.integers(1, count + 1), max_size=2))  # cycles, missing
        lines = [
            f"title: step {number}",
            f"requires: {[str(r).zfill(2) for r in requires]}",
            f"template: {draw(st.sampled_from(['true', 'false']))}",
            "vars: {name: demo, n: 3}",
        ]
        if draw(st.booleans()):
            lines.append("checks: [{run: 'true', name: ok}]")
        text = "\n".join(draw(st.permutations(lines)))
    elif choice == "types":
        text = draw(
            st.sampled_from(
                ["title: [1]", "requires: 3", "vars: [a]", "checks: {a: 1}", "vars: {1: x}", "x: 1"]
            )
        )
    elif choice == "yaml":
        text = draw(st.text(st.sampled_from("ab: -[]{}&*!|>'\"#%@`,\n\t "), max_size=40))
    elif choice == "deep":
        depth = draw(st.integers(500, 20_000))
        text = "vars: {a: " + "[" * depth + "]" * draw(st.sampled_from([0, depth])) + "}"
    elif choice == "bomb":
        text = _bomb(draw(st.integers(3, 10)))
    elif choice == "huge":
        text = "vars:\n" + "".join(f"  v{i}: {i}\n" for i in range(draw(st.integers(10, 90_000))))
    else:
        control = draw(st.sampled_from(["\x00", "\x01", "\x1b", "\x7f"]))
        text = f"title: a{control}b"
    closed = draw(st.integers(0, 19)) > 0
    return f"---\n{text}\n" + ("---\n" if closed else "")


@st.composite
def documents(draw: st.DrawFn, number: int, count: int) -> bytes:
    parts = [draw(front_matter(number, count)), f"# Step {number}\n\n"]
    for block in draw(st.lists(blocks(), max_size=4)):
        parts.append(block + "\n" + draw(st.sampled_from(["", "Prose.\n\n", "- item\n  - deep\n"])))
    text = "".join(parts)
    data = text.encode("utf-8", "surrogatepass")
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 1, 2]))):
        mutation = draw(st.sampled_from(["crlf", "bom", "badutf8", "nul", "garbage", "cr"]))
        at = draw(st.integers(0, len(data)))
        if mutation == "crlf":
            data = data.replace(b"\n", b"\r\n")
        elif mutation == "cr":
            data = data.replace(b"\n", b"\r")
        elif mutation == "bom":
            data = b"\xef\xbb\xbf" + data
        elif mutation == "badutf8":
            data = (
                data[:at]
                + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80"]))
                + data[at:]
            )
        elif mutation == "nul":
            data = data[:at] + b"\x00" + data[at:]
        else:
            data = data[:at] + draw(st.binary(max_size=30)) + data[at:]
    return data


@st.composite
def projects(draw: st.DrawFn) -> dict[str, bytes]:
    """File name below workflows/demo/ -> bytes."""
    count = draw(st.integers(1, 3))
    files = {f"{n:02d}_step{n}.md": draw(documents(n, count)) for n in range(1, count + 1)}
    config = draw(
        st.sampled_from(["", "", "vars: {name: demo}\n", "vars: [1\n", _bomb(9), "x: 1\n"])
    )
    if config:
        files["wf.yaml"] = config.encode()
    return files
