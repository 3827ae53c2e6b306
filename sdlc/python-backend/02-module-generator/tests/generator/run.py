"""Render every spec of `tests.generator.specs` into this project.

    python -m tests.generator.run [--examples N]

Accepted specs are written as modules (their test files are printed, one per line);
refused ones must fail with one line that names the offending name. Exit 1 when a
fixed spec is not treated as expected.
"""

import argparse
import sys
from pathlib import Path

from tests.generator.render import Spec, SpecError, render, write
from tests.generator.specs import ACCEPTED, REFUSED, generated


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")


def _refusal(spec: Spec, project: Path) -> str | None:
    try:
        render(spec, project)
    except SpecError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=6)
    args = parser.parse_args(argv)
    project = Path.cwd()
    problems: list[str] = []
    accepted = list(ACCEPTED)

    for spec, name in REFUSED:
        message = _refusal(spec, project)
        if message is None:
            problems.append(f"not refused: {spec}")
        elif "\n" in message or name not in message:
            problems.append(f"unclear refusal of {spec}: {message!r} (should name {name!r})")
        else:
            _say(f"refused  {spec.module}: {spec.fields!r}: {message}")
    for spec in generated(args.examples):
        message = _refusal(spec, project)
        if message is None:
            accepted.append(spec)
        elif "\n" in message or "'" not in message:
            problems.append(f"unclear refusal of {spec}: {message!r}")
        else:
            _say(f"refused  {spec.module}: {spec.fields!r}: {message}")

    for spec in accepted:
        try:
            files = render(spec, project)
        except SpecError as exc:
            problems.append(f"refused {spec}: {exc}")
            continue
        write(files, project)
        _say(f"accepted {spec.module}: {spec.fields!r}")
        tests = [str(path) for path in sorted(files) if path.parts[0] == "tests"]
        sys.stdout.write("".join(f"{path}\n" for path in tests))

    for problem in problems:
        _say(f"PROBLEM  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
