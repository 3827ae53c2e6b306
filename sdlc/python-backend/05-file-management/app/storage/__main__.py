"""Operator commands: `python -m app.storage cleanup [--dry-run]` (cron, a Kubernetes job).

Prints the report as JSON; exit code 0 when the run finished (whatever it found).
"""

import argparse
import asyncio
import json

from app.core.config import get_settings
from app.core.database import Database
from app.extensions.storage import build_backend
from app.storage.cleanup import cleanup
from app.storage.config import get_storage_settings


async def run_cleanup(*, dry_run: bool) -> dict[str, object]:
    settings = get_settings()
    storage = get_storage_settings()
    database = Database.from_settings(settings)
    backend = build_backend(storage, settings)
    try:
        report = await cleanup(database, backend, storage, dry_run=dry_run)
    finally:
        await backend.aclose()
        await database.dispose()
    return report.as_dict()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.storage")
    commands = parser.add_subparsers(dest="command", required=True)
    clean = commands.add_parser("cleanup", help="remove orphaned objects and dead uploads")
    clean.add_argument("--dry-run", action="store_true", help="report only; delete nothing")
    args = parser.parse_args(argv)
    report = asyncio.run(run_cleanup(dry_run=args.dry_run))
    print(json.dumps(report, indent=2))  # noqa: T201 - the command's output


if __name__ == "__main__":
    main()
