"""Hostile input ends in one line ``file.md:line: message``, exit 2, quickly and bounded."""

from __future__ import annotations

import contextlib
import re

import pytest

from runner import patch, template
from runner.patch import Hunk

from .helpers import block, wf, write_project

pytestmark = pytest.mark.timeout(60)  # a hang guard only: every case here takes < 2 s


def one_error(root, where: str, *needles: str):
    """``where``: ``file:line:`` (that line) or ``file:`` (any line)."""
    with contextlib.chdir(root):
        result = wf(None, "build")
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    pattern = re.escape(f"wf: workflows/demo/{where}") + (
        r"\d+:" if where.endswith((".md:", ".yaml:")) else ""
    )
    assert re.match(pattern + " ", result.stderr), result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert not (root / "sdlc").exists()
    return result.stderr


def doc(front: str, body: str = "# A\n") -> str:
    return f"---\n{front}---\n{body}"


def project(tmp_path, text: str, wf_yaml: str | None = None):
    return write_project(tmp_path / "proj", {"01_a.md": text}, wf_yaml=wf_yaml)


# --- YAML: nesting, syntax, characters, encodings ------------------------------------


@pytest.mark.parametrize(
    "nested",
    [
        "vars: {a: " + "[" * 5000 + "]" * 5000 + "}\n",
        "vars:\n" + "".join(" " * i + f"  k{i}:\n" for i in range(1, 1100)),
        "vars: {a: " + "{b: " * 3000 + "1" + "}" * 3000 + "}\n",
    ],
    ids=["flow lists", "block mappings", "flow mappings"],
)
def test_deeply_nested_front_matter(tmp_path, nested):
    root = project(tmp_path, doc("title: x\n" + nested))
    one_error(root, "01_a.md:", "nest")


def test_deeply_nested_set_config(tmp_path):
    root = project(tmp_path, "# A\n", wf_yaml="vars:\n  a: " + "[" * 100_000 + "\n")
    one_error(root, "wf.yaml:2:", "nest")


def test_invalid_utf8_names_line_and_column(tmp_path):
    root = write_project(tmp_path / "proj", {"01_a.md": "x"})
    (root / "workflows/demo/01_a.md").write_bytes(b"# A\n\nsome \xff text\n")
    one_error(root, "01_a.md:3:", "not valid UTF-8", "column 6")


def test_invalid_utf8_in_set_config_names_its_line(tmp_path):
    root = project(tmp_path, "# A\n", wf_yaml="vars:\n  a: x\n")
    (root / "workflows/demo/wf.yaml").write_bytes(b"vars:\n  a: x\n  b: \xc3\x28\n")
    one_error(root, "wf.yaml:3:", "not valid UTF-8", "column 6")


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\ufffe"])
def test_control_character_in_front_matter_names_its_line(tmp_path, char):
    root = project(tmp_path, doc(f"title: x\nvars:\n  a: 1\n  b: x{char}y\n"))
    one_error(root, "01_a.md:5:", "control character", "column 7")


def test_control_character_in_set_config(tmp_path):
    root = project(tmp_path, "# A\n", wf_yaml="vars:\n  a: 1\n  b: \x00\n")
    one_error(root, "wf.yaml:3:", "control character")


def test_syntax_error_in_set_config_is_one_line_at_its_line(tmp_path):
    root = project(tmp_path, "# A\n", wf_yaml="vars:\n  a: 1\n  b: [1, 2\n  c: 3\n")
    stderr = one_error(root, "wf.yaml:4:", "not valid YAML")
    assert "<unicode string>" not in stderr


def test_syntax_error_in_front_matter_is_one_line_at_its_line(tmp_path):
    root = project(tmp_path, doc("title: x\nvars:\n  a: 1\n   b: 2\n"))
    one_error(root, "01_a.md:5:", "not valid YAML")


@pytest.mark.parametrize(
    "value", ["2024-13-45", "!!binary 'x!'", "!!python/object:os.system x", "!!set {a}"]
)
def test_values_yaml_cannot_construct_are_one_line(tmp_path, value):
    result = wf(project(tmp_path, doc(f"title: x\nvars:\n  a: {value}\n")), "build")
    assert result.exit_code == 2 or result.exit_code == 0
    assert result.stderr.count("\n") <= 1 and "Traceback" not in result.output


# --- resource exhaustion ----------------------------------------------------------------


def billion_laughs(indent: str) -> str:
    lines = [f"{indent}l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 10):
        refs = ", ".join([f"*l{level - 1}"] * 10)
        lines.append(f"{indent}l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_in_front_matter(tmp_path):
    body = "# A\n\n" + block("text path=a.txt template", "{{ l9 }}\n")
    root = project(tmp_path, doc("vars:\n" + billion_laughs("  "), body))
    one_error(root, "01_a.md:", "aliases")


def test_alias_bomb_in_set_config(tmp_path):
    body = "# A\n\n" + block("text path=a.txt template", "{{ l9 }}\n")
    root = project(tmp_path, body, wf_yaml="vars:\n" + billion_laughs("  "))
    one_error(root, "wf.yaml:", "aliases")


def test_recursive_alias(tmp_path):
    root = project(tmp_path, doc("vars:\n  a: &a [1, *a]\n"))
    one_error(root, "01_a.md:3:", "contains itself")


def test_modest_alias_use_is_fine(tmp_path):
    body = "# A\n\n" + block("text path=a.txt template", "{{ b|length }}\n")
    root = project(tmp_path, doc("vars:\n  a: &a [1, 2]\n  b: [*a, *a, *a]\n", body))
    assert wf(root, "build").exit_code == 0
    assert (root / "sdlc/demo/01-a/a.txt").read_text() == "3\n"


def test_huge_front_matter(tmp_path):
    variables = "".join(f"  v{i}: value number {i}\n" for i in range(200_000))
    root = project(tmp_path, doc("vars:\n" + variables))
    one_error(root, "01_a.md:2:", "larger than")


TIME = "it ran longer than 1s"


@pytest.mark.parametrize(
    ("expression", "needle"),
    [
        ("{{ 9**(9**9) }}", "bits"),
        ("{{ 2**70000 }}", "bits"),
        ("{{ 'x' * 10**9 }}", "repeating"),
        ("{{ [1, 2] * 10**8 }}", "repeating"),
        ("{{ 'x'|center(2000000000) }}", "memory"),
        ("{{ 'x'|center(100000000) }}", "output"),
        ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", TIME),
        ("{% for i in range(99999) %}{{ 'x' * 1000 }}{% endfor %}", "output"),
    ],
)
def test_template_cannot_exhaust_the_machine(tmp_path, monkeypatch, expression, needle):
    # Only the endless loop meets the time limit, and 1 s keeps that case short. Every
    # other case must be stopped by its own limit; with the time limit at 1 s too, a
    # loaded machine (the 100 MB string, 16 MiB of output) reached the clock first and
    # the test saw "ran longer than 1s" instead. 60 s of wall time cannot win that race.
    monkeypatch.setattr(template, "MAX_SECONDS", 1.0 if needle == TIME else 60.0)
    root = project(tmp_path, "# A\n\n" + block("text path=a.txt template", expression + "\n"))
    one_error(root, "01_a.md:3:", "template stopped", needle)


def test_template_limits_leave_normal_templates_alone(tmp_path):
    expression = "{{ 2**64 }} {{ 'ab' * 3 }} {{ 'x'|center(5) }} {{ range(3)|sum }}"
    root = project(tmp_path, "# A\n\n" + block("text path=a.txt template", expression + "\n"))
    assert wf(root, "build").exit_code == 0
    assert (root / "sdlc/demo/01-a/a.txt").read_text() == "18446744073709551616 ababab   x   3\n"


def test_template_time_limit_keeps_an_outer_alarm(tmp_path, monkeypatch):
    import signal

    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        root = project(tmp_path, "# A\n\n" + block("text path=a.txt template", "{{ 1 }}\n"))
        assert wf(root, "build").exit_code == 0
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < left < 30.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not fired


def _hunk(old: list[str]) -> Hunk:
    return Hunk(old_start=1, number=1, old=old, new=old)


def test_near_miss_hunk_against_a_big_file_is_refused():
    """2,000 lines that match everywhere but in the last line, in a 50,000-line file."""
    lines = ["same\n"] * 50_000
    assert patch._locate(lines, _hunk(["same\n"] * 1999 + ["other\n"]), 25_000) is None


def test_hunk_lands_on_the_nearest_match_and_the_earlier_on_a_tie():
    lines = [f"{i % 10}\n" for i in range(100)]
    assert patch._locate(lines, _hunk(["3\n", "4\n"]), 51) == 53
    assert patch._locate(lines, _hunk(["3\n", "4\n"]), 58) == 53
    assert patch._locate(lines, _hunk(["3\n", "4\n"]), 48) == 43
    assert patch._locate(lines, _hunk(["3\n", "4\n"]), 0) == 3
    assert patch._locate(lines, _hunk(["9\n"]), 200) == 99
    assert patch._locate([*lines[:-1], "9"], _hunk(["9\n"]), 200) == 99  # no final newline
