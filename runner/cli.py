"""The ``wf`` command line: parse options, call one operation, report, exit.

Exit codes: 0 success; 1 drift, failed check or refused overwrite; 2 bad input or usage.
Heavy modules (markdown-it, jinja2, git) are imported inside commands, so ``wf --help``
stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from runner import __version__
from runner.errors import WfError

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

EPILOG = """\b
Exit codes: 0 ok; 1 drift, failed check or refused overwrite; 2 bad input or usage.
Steps are selected by number (4, 04), id (auth-security), range (01-04) or lists (1,3).
"""


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ``WfError`` into one ``file:line: message`` line and its exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except WfError as exc:
            click.echo(f"wf: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("wf: interrupted", err=True)
            sys.exit(130)

    return wrapper


def parse_vars(values: tuple[str, ...]) -> dict[str, str]:
    result = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="--var")
        result[key.strip()] = text
    return result


set_option = click.option(
    "--set", "set_name", metavar="NAME", help="Workflow set (folder of workflows/)."
)
var_option = click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="KEY=VALUE",
    help="Template variable, overrides front matter (repeatable).",
)
force_option = click.option(
    "--force", is_flag=True, help="Overwrite files edited by hand (their edits are lost)."
)


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wf")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project folder holding workflows/ (default: nearest one above the current folder).",
)
@click.pass_context
def main(ctx: click.Context, root: Path | None) -> None:
    """Markdown-driven workflow runner.

    Numbered documents in workflows/<set>/ (01_project_setup.md, ...) are the single
    source of truth: every fenced block that names a target path is written to
    sdlc/<set>/NN-slug/<path>, and each step's checks prove the result works.

    \b
    Typical use:
      wf list                 steps, and whether sdlc/ is up to date
      wf run 04               regenerate step 04 and run its checks
      wf build                regenerate every step (byte-identical reruns)
      wf verify               fail on drift between documents and sdlc/ (CI)
      wf export DIR           assemble a standalone project from the steps
    """
    ctx.obj = root


def project_root(ctx: click.Context) -> Path:
    from runner.discover import find_root

    root = ctx.obj
    if root is not None:
        if not (root / "workflows").is_dir():
            raise WfError(f"{root} has no workflows/ folder")
        return root.resolve()
    return find_root(Path.cwd())


@main.command("list")
@set_option
@click.pass_context
@handle_errors
def list_command(ctx: click.Context, set_name: str | None) -> None:
    """List steps with their titles, blocks, checks and output status."""
    from runner import operations, report
    from runner.project import load_sets

    root = project_root(ctx)
    for wset in load_sets(root, [set_name] if set_name else []):
        current = operations.state(wset)
        stale = {d.key.split("/", 1)[0] for d in current.differences}
        click.echo(
            report.style(f"{wset.name} (workflows/{wset.name}/ -> sdlc/{wset.name}/)", bold=True)
        )
        for step in wset.steps():
            status = "stale" if step.folder in stale else "up-to-date"
            click.echo("  " + report.step_line(step, status, root))


@main.command()
@click.argument("step")
@set_option
@click.pass_context
@handle_errors
def show(ctx: click.Context, step: str, set_name: str | None) -> None:
    """Show one step: its document, output folder, blocks, targets and checks."""
    from runner import report
    from runner.project import only_set

    root = project_root(ctx)
    wset = only_set(root, set_name)
    for step_file in wset.select([step]):
        for line in report.step_detail(wset.step(step_file), root):
            click.echo(line.replace("<set>", wset.name))


@main.command()
@click.argument("steps", nargs=-1)
@set_option
@var_option
@force_option
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.pass_context
@handle_errors
def build(
    ctx: click.Context,
    steps: tuple[str, ...],
    set_name: str | None,
    variables: tuple[str, ...],
    force: bool,
    dry_run: bool,
) -> None:
    """Regenerate sdlc/<set>/ from the documents (all steps, or the STEPS given).

    Unchanged files are not rewritten; files no document produces any more are
    removed; files edited by hand are refused unless --force.
    """
    from runner.project import load_sets

    root = project_root(ctx)
    sets = load_sets(root, [set_name] if set_name else [])
    overrides = parse_vars(variables)
    for wset in sets:
        _build_one(wset, steps, overrides, force, dry_run)


def _build_one(
    wset: Any, steps: tuple[str, ...], overrides: dict[str, str], force: bool, dry_run: bool
) -> None:
    from runner import operations

    result = operations.build(wset, steps, overrides, force, dry_run)
    verb = "would " if dry_run else ""
    for action in result.actions:
        click.echo(f"  {verb}{action.describe()}")
    for key in result.untracked:
        click.echo(f"  warning: sdlc/{wset.name}/{key} is not produced by any document", err=True)
    changed = len(result.actions) + int(result.manifest_written)
    summary = f"{len(result.actions)} file(s) {verb}changed" if changed else "up to date"
    click.echo(f"{wset.name}: {summary}")


@main.command()
@click.argument("step")
@set_option
@var_option
@force_option
@click.pass_context
@handle_errors
def run(
    ctx: click.Context, step: str, set_name: str | None, variables: tuple[str, ...], force: bool
) -> None:
    """Regenerate one STEP's output folder."""
    from runner.project import only_set

    wset = only_set(project_root(ctx), set_name)
    _build_one(wset, (step,), parse_vars(variables), force, dry_run=False)


@main.command()
@set_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="Report format; github prints ::error annotations on the Markdown lines.",
)
@click.option("--diff/--no-diff", default=True, help="Show a unified diff per differing file.")
@click.pass_context
@handle_errors
def verify(ctx: click.Context, set_name: str | None, fmt: str, diff: bool) -> None:
    """Check that sdlc/ is exactly what the documents produce (exit 1 on drift).

    Differences are categorised: stale (document changed), hand-edited, missing,
    orphaned (no document produces it any more), untracked, manifest.
    """
    from runner import operations, report
    from runner.project import load_sets

    failed = False
    documents: list[dict[str, Any]] = []
    for wset in load_sets(project_root(ctx), [set_name] if set_name else []):
        differences = operations.state(wset).differences
        failed = failed or bool(differences)
        if fmt == "json":
            documents.extend(report.drift_json(wset.name, differences))
        elif fmt == "github":
            if differences:
                click.echo(report.drift_github(wset.name, differences))
        else:
            click.echo(report.drift_text(wset.name, differences, diff))
    if fmt == "json":
        click.echo(report.dumps({"ok": not failed, "drift": documents}))
    sys.exit(EXIT_FAIL if failed else EXIT_OK)


@main.command()
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--steps", "steps", multiple=True, metavar="STEPS", help="Steps to include (default: all)."
)
@set_option
@var_option
@click.option("--git-init", is_flag=True, help="git init the folder and commit the project.")
@force_option
@click.pass_context
@handle_errors
def export(
    ctx: click.Context,
    target: Path,
    steps: tuple[str, ...],
    set_name: str | None,
    variables: tuple[str, ...],
    git_init: bool,
    force: bool,
) -> None:
    """Assemble the chosen steps into a standalone project in TARGET."""
    from runner import operations
    from runner.project import only_set

    wset = only_set(project_root(ctx), set_name)
    result = operations.export(wset, target, steps, parse_vars(variables), git_init, force)
    click.echo(f"exported {len(result.files)} file(s) to {target}")
    if result.committed:
        click.echo(f"git: initial commit {result.committed[:12]}")


@main.command()
@click.argument("step")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The existing project to apply the step to.",
)
@set_option
@var_option
@force_option
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.pass_context
@handle_errors
def apply(
    ctx: click.Context,
    step: str,
    target: Path,
    set_name: str | None,
    variables: tuple[str, ...],
    force: bool,
    dry_run: bool,
) -> None:
    """Apply one STEP to an existing project (e.g. add a module with step 02).

    Patches and appends build on the project's files; a file the step writes whole
    that already exists with other content is refused unless --force. A second
    identical run changes nothing.
    """
    from runner import operations
    from runner.project import only_set

    wset = only_set(project_root(ctx), set_name)
    result = operations.apply(wset, step, target, parse_vars(variables), force, dry_run)
    verb = "would " if dry_run else ""
    for action in result.actions:
        click.echo(f"  {verb}{action.describe()}")
    for path in result.kept:
        click.echo(f"  kept    {path} (yours: skeleton files are never overwritten)")
    click.echo(f"{target}: {len(result.actions)} file(s) {verb}changed")


if __name__ == "__main__":  # pragma: no cover
    main()
