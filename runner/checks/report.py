"""Machine-readable check reports: JUnit XML, GitHub annotations, JSON.

Every finding points at the Markdown ``file:line`` that declares the check: relative to
``root`` (the project root, ``Source.label``) when given, else to the working folder. In
strict mode a skipped check is reported as a failure, as it fails the run.

``escape_data``/``escape_property`` implement the escaping of GitHub workflow commands
for every annotation wf prints (drift reports use them too).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.checks._types import CheckResult

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ANNOTATION_LINES = 20


def display_path(path: Path) -> str:
    """Relative to the working directory when below it (the fallback without a root)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


def _file(result: CheckResult, root: Path | None) -> str:
    """The check's document: relative to ``root`` when given and below it."""
    source = result.spec.source
    if root is None:
        return display_path(source.file)
    return source.label(root).rpartition(":")[0]


def _verdict(result: CheckResult, strict: bool) -> str:
    """passed | failure | error | skipped, as reports show it."""
    if result.status == "passed":
        return "passed"
    if result.status == "skipped":
        return "failure" if strict else "skipped"
    return "error" if result.status == "error" else "failure"


def _message(result: CheckResult, strict: bool) -> str:
    reason = result.reason or result.status
    if result.status == "skipped" and strict:
        return f"skipped, which fails in strict mode: {reason}"
    return reason


def _clean(text: str) -> str:
    return _NOT_XML.sub("", _ANSI.sub("", text))


def junit_xml(results: Sequence[CheckResult], strict: bool, root: Path | None = None) -> str:
    """JUnit XML: one <testsuite> per step, one <testcase> per check."""
    import xml.etree.ElementTree as ET  # only when a report is written

    steps: dict[str, list[CheckResult]] = {}
    for result in results:
        steps.setdefault(result.spec.step, []).append(result)
    tree = ET.Element("testsuites", name="wf checks")
    for step, members in steps.items():
        tree.append(_suite(step, members, strict, root))
    _count(tree, [_verdict(r, strict) for r in results], sum(r.duration for r in results))
    ET.indent(tree)
    return ET.tostring(tree, encoding="unicode", xml_declaration=True) + "\n"


def _suite(
    step: str, results: Sequence[CheckResult], strict: bool, root: Path | None
) -> ET.Element:
    import xml.etree.ElementTree as ET

    suite = ET.Element("testsuite", name=step)
    _count(suite, [_verdict(r, strict) for r in results], sum(r.duration for r in results))
    for result in results:
        suite.append(_case(result, strict, root))
    return suite


def _count(element: ET.Element, verdicts: Sequence[str], seconds: float) -> None:
    element.set("tests", str(len(verdicts)))
    element.set("failures", str(verdicts.count("failure")))
    element.set("errors", str(verdicts.count("error")))
    element.set("skipped", str(verdicts.count("skipped")))
    element.set("time", f"{seconds:.3f}")


def _case(result: CheckResult, strict: bool, root: Path | None) -> ET.Element:
    import xml.etree.ElementTree as ET

    spec = result.spec
    case = ET.Element(
        "testcase",
        name=spec.title,
        classname=spec.step,
        file=_file(result, root),
        line=str(spec.source.line),
        time=f"{result.duration:.3f}",
    )
    verdict = _verdict(result, strict)
    output = _clean(result.output)
    if verdict == "passed":
        if output:
            ET.SubElement(case, "system-out").text = output
        return case
    child = ET.SubElement(case, verdict, message=_clean(_message(result, strict)))
    if verdict != "skipped":
        child.set("type", result.status)
        child.text = output
    elif output:
        ET.SubElement(case, "system-out").text = output
    return case


def escape_data(text: str) -> str:
    """A workflow command's message (after ``::``): ``%``, CR and LF are escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``file=``, ``title=``): also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(
    results: Sequence[CheckResult], strict: bool, root: Path | None = None
) -> str:
    """``::error``/``::warning`` workflow commands on the Markdown line of each check.

    GitHub wants ``file=`` relative to the repository top: pass the project root.
    """
    lines: list[str] = []
    for result in results:
        lines.extend(_warning_annotation(result, warning, root) for warning in result.warnings)
        verdict = _verdict(result, strict)
        if verdict == "passed":
            continue
        level = "warning" if verdict == "skipped" else "error"
        spec = result.spec
        props = _props(result, root, f"check {spec.title} (step {spec.step}) {result.status}")
        body = _message(result, strict)
        output_tail = result.output.rstrip().splitlines()[-_ANNOTATION_LINES:]
        if output_tail and verdict != "skipped":
            body += "\n" + "\n".join(output_tail)
        lines.append(f"::{level} {props}::{escape_data(_ANSI.sub('', body))}")
    return "\n".join(lines) + ("\n" if lines else "")


def _props(result: CheckResult, root: Path | None, title: str) -> str:
    """An annotation's ``file=…,line=…,title=…``, pointing at the check's Markdown line."""
    line = str(result.spec.source.line)
    values = (("file", _file(result, root)), ("line", line), ("title", title))
    return ",".join(f"{key}={escape_property(value)}" for key, value in values)


def _warning_annotation(result: CheckResult, warning: str, root: Path | None) -> str:
    spec = result.spec
    props = _props(result, root, f"check {spec.title} (step {spec.step}): cleanup")
    return f"::warning {props}::{escape_data(_ANSI.sub('', warning))}"


def results_json(
    results: Sequence[CheckResult], strict: bool, root: Path | None = None
) -> list[dict[str, Any]]:
    """Plain dicts, one per check, ready for ``json.dumps``."""
    return [
        {
            "name": r.spec.name,
            "step": r.spec.step,
            "profiles": list(r.spec.profiles),
            "file": _file(r, root),
            "line": r.spec.source.line,
            "needs": list(r.spec.needs),
            "status": r.status,
            "ok": r.ok(strict),
            "cached": r.cached,
            "duration": round(r.duration, 3),
            "reason": r.reason,
            "warnings": list(r.warnings),
            "output": r.output,
        }
        for r in results
    ]
