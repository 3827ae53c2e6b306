"""`python -m app.api_docs export|check|diff`: the OpenAPI document from the command line.

python -m app.api_docs export > openapi/openapi.json   # what the app serves
python -m app.api_docs check openapi/openapi.json      # exit 1 when it is stale
python -m app.api_docs diff OLD.json NEW.json          # exit 1 on a breaking change
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.api_docs.breaking import compare, render


def render_spec(spec: dict[str, Any]) -> str:
    """The committed form: sorted nowhere (order is meaningful), indented, one final newline."""
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"


def current_spec() -> dict[str, Any]:
    # Default development settings: the document must not depend on the environment.
    from app.api_docs.spec import build_openapi
    from app.core.config import Environment, Settings
    from app.main import create_app

    app = create_app(Settings(_env_file=None, app_env=Environment.DEVELOPMENT, log_level="ERROR"))
    return build_openapi(app)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.api_docs")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("export", help="print the OpenAPI document as JSON")
    check = commands.add_parser("check", help="fail when FILE differs from the app's document")
    check.add_argument("file", type=Path)
    diff = commands.add_parser("diff", help="list changes; fail on a breaking one")
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    args = parser.parse_args(argv)

    if args.command == "export":
        sys.stdout.write(render_spec(current_spec()))
        return 0
    if args.command == "check":
        expected = render_spec(current_spec())
        actual = args.file.read_text(encoding="utf-8") if args.file.exists() else ""
        if actual != expected:
            sys.stderr.write(
                f"{args.file} is stale: regenerate it with "
                f"`python -m app.api_docs export > {args.file}`\n"
            )
            return 1
        sys.stdout.write(f"{args.file} is up to date\n")
        return 0
    old = json.loads(args.old.read_text(encoding="utf-8"))
    new = json.loads(args.new.read_text(encoding="utf-8"))
    changes = compare(old, new)
    sys.stdout.write(render(changes))
    return 1 if any(change.breaking for change in changes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
