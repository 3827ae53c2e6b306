"""The ``wf`` command line: parse options, call one operation, report, exit.

Exit codes: 0 success; 1 drift, failed check or refused overwrite; 2 bad input or usage.
Heavy modules (markdown-it, jinja2, git) are imported inside commands, so ``wf --help``
stays fast.
"""

from __future__ import annotations

import os
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


def check_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that runs checks."""
    options = [
        click.option(
            "--strict/--no-strict",
            default=None,
            help="Count skipped checks (service unavailable) as failures [default: on if CI].",
        ),
        click.option(
            "-j",
            "--jobs",
            type=click.IntRange(min=1),
            help="Checks run in parallel (default: cores).",
        ),
        click.option("--no-cache", is_flag=True, help="Rerun checks that passed before unchanged."),
        click.option(
            "--python",
            metavar="PATH",
            help="Interpreter (>= 3.12) for the project's venv (default: WF_PYTHON, then PATH).",
        ),
        click.option(
            "--junit",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Also write a JUnit XML report of the checks to this file.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="Report format; github prints ::error annotations on the Markdown lines.",
)
since_option = click.option(
    "--since",
    metavar="REF",
    help="Only steps whose documents changed since git REF, and later steps using their files.",
)


def strict_default(strict: bool | None) -> bool:
    """``--strict`` defaults to on in CI (the CI environment variable is set)."""
    if strict is not None:
        return strict
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


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
@click.option("--commit", is_flag=True, help="git commit the regenerated sdlc/ tree afterwards.")
@click.pass_context
@handle_errors
def build(
    ctx: click.Context,
    steps: tuple[str, ...],
    set_name: str | None,
    variables: tuple[str, ...],
    force: bool,
    dry_run: bool,
    commit: bool,
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
    if commit and not dry_run:
        _commit(root, [wset.name for wset in sets])


def _commit(root: Path, set_names: list[str]) -> None:
    """Commit each set's sdlc/ folder where it differs from HEAD, naming the steps."""
    from runner.gitops import commit_paths, uncommitted

    changed = {}
    for name in set_names:
        files = uncommitted(root, f"sdlc/{name}")
        steps = sorted({_step_of(path, name) for _, path in files} - {""})
        if files:
            changed[name] = steps or ["manifest"]
    names = "; ".join(f"{name} steps {', '.join(steps)}" for name, steps in changed.items())
    paths = [f"sdlc/{name}" for name in changed]
    sha = commit_paths(root, paths, f"wf build: regenerate {names}") if paths else None
    click.echo(f"git: committed {sha[:12]}" if sha else "git: nothing to commit")


def _step_of(path: str, set_name: str) -> str:
    """The step number of a generated file's path (``…/sdlc/<set>/03-x/…`` -> ``03``)."""
    _, _, below = path.partition(f"sdlc/{set_name}/")
    folder = below.split("/", 1)[0]
    return folder.split("-", 1)[0] if "/" in below else ""


def _build_one(
    wset: Any, steps: tuple[str, ...], overrides: dict[str, str], force: bool, dry_run: bool
) -> None:
    """Build one set and report what changed."""
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
@click.option("--no-checks", is_flag=True, help="Only regenerate; do not run the checks.")
@check_options
@click.pass_context
@handle_errors
def run(
    ctx: click.Context,
    step: str,
    set_name: str | None,
    variables: tuple[str, ...],
    force: bool,
    no_checks: bool,
    **check_args: Any,
) -> None:
    """Regenerate one STEP's output folder, then run its checks.

    The checks run in the project assembled from every step up to STEP.
    """
    from runner.project import only_set

    wset = only_set(project_root(ctx), set_name)
    overrides = parse_vars(variables)
    _build_one(wset, (step,), overrides, force, dry_run=False)
    if not no_checks:
        ok = _checks([wset], (step,), overrides, "text", None, **check_args)
        sys.exit(EXIT_OK if ok else EXIT_FAIL)


@main.command()
@click.argument("steps", nargs=-1)
@set_option
@var_option
@since_option
@format_option
@check_options
@click.pass_context
@handle_errors
def check(
    ctx: click.Context,
    steps: tuple[str, ...],
    set_name: str | None,
    variables: tuple[str, ...],
    since: str | None,
    fmt: str,
    **check_args: Any,
) -> None:
    """Run the checks of the STEPS given (default: all) without regenerating.

    Each check runs in a venv built from the assembled pyproject.toml; checks that
    need PostgreSQL, Redis or S3 get a fresh database/bucket of their own.
    """
    from runner.project import load_sets, only_set

    root = project_root(ctx)
    sets = [only_set(root, set_name)] if steps else load_sets(root, _names(set_name))
    ok = _checks(sets, steps, parse_vars(variables), fmt, since, **check_args)
    sys.exit(EXIT_OK if ok else EXIT_FAIL)


@main.command()
@set_option
@format_option
@click.option("--diff/--no-diff", default=True, help="Show a unified diff per differing file.")
@click.option("--checks", "with_checks", is_flag=True, help="Also run every step's checks.")
@since_option
@click.option(
    "--committed",
    is_flag=True,
    help="Also fail when sdlc/ differs from what git has committed (modified or untracked).",
)
@check_options
@click.pass_context
@handle_errors
def verify(
    ctx: click.Context,
    set_name: str | None,
    fmt: str,
    diff: bool,
    with_checks: bool,
    since: str | None,
    committed: bool,
    **check_args: Any,
) -> None:
    """Check that sdlc/ is exactly what the documents produce (exit 1 on drift).

    Differences are categorised: stale (document changed), hand-edited, missing,
    orphaned (no document produces it any more), untracked, manifest. With --checks,
    every step's checks run too; in CI use: wf verify --checks --committed.
    """
    from runner import operations, report
    from runner.project import load_sets

    sets = load_sets(project_root(ctx), _names(set_name))
    found: dict[str, list[dict[str, Any]]] = {"drift": [], "uncommitted": []}
    for wset in sets:
        differences = operations.state(wset).differences
        found["drift"] += report.drift_json(wset.name, differences)
        if fmt == "github" and differences:
            click.echo(report.drift_github(wset.name, differences))
        elif fmt == "text":
            click.echo(report.drift_text(wset.name, differences, diff))
        if committed:
            found["uncommitted"] += _uncommitted(wset, fmt)
    failed = bool(found["drift"] or found["uncommitted"])
    if not committed:
        del found["uncommitted"]
    if with_checks:
        ok = _checks(sets, (), {}, fmt, since, json_head=found, **check_args)
        failed = failed or not ok
    elif fmt == "json":
        click.echo(report.dumps({"ok": not failed, **found}))
    sys.exit(EXIT_FAIL if failed else EXIT_OK)


def _names(set_name: str | None) -> list[str]:
    return [set_name] if set_name else []


def _uncommitted(wset: Any, fmt: str) -> list[dict[str, str]]:
    """Generated files that differ from git HEAD, reported in ``fmt`` (json: returned)."""
    from runner import report
    from runner.gitops import uncommitted

    files = [
        {"set": wset.name, "status": status, "path": path}
        for status, path in uncommitted(wset.root, f"sdlc/{wset.name}")
    ]
    if fmt == "github":
        for item in files:
            click.echo(report.uncommitted_github(item["path"], item["status"]))
    elif fmt == "text" and files:
        for item in files:
            click.echo(f"  not committed ({item['status']}): {item['path']}")
        click.echo(f"{wset.name}: sdlc/{wset.name} differs from git HEAD; commit it")
    return files


def _checks(
    sets: list[Any],
    steps: tuple[str, ...],
    overrides: dict[str, str],
    fmt: str,
    since: str | None,
    strict: bool | None,
    jobs: int | None,
    no_cache: bool,
    python: str | None,
    junit: Path | None,
    json_head: dict[str, Any] | None = None,
) -> bool:
    """Run checks for the sets, report them in ``fmt``; True when all are ok."""
    from runner import operations, report
    from runner.checks import CheckOptions, github_annotations, junit_xml, results_json

    strict = strict_default(strict)
    root = sets[0].root if sets else Path.cwd()
    options = CheckOptions(
        cache_dir=root / ".wf",
        strict=strict,
        jobs=jobs or os.cpu_count() or 1,
        use_cache=not no_cache,
        python=python or os.environ.get("WF_PYTHON") or None,
    )
    progress = _progress(root) if fmt == "text" else None
    results: list[Any] = []
    for wset in sets:
        results += operations.run_step_checks(
            wset, steps, options, since, overrides, progress
        ).results
    ok = all(r.ok(strict) for r in results)
    if junit is not None:
        junit.write_text(junit_xml(results, strict), encoding="utf-8")
    if fmt == "json":
        head = json_head or {}
        payload = {"ok": ok and not any(head.values()), **head}
        payload["checks"] = results_json(results, strict)
        click.echo(report.dumps(payload))
    elif fmt == "github":
        annotations = github_annotations(results, strict)
        if annotations:
            click.echo(annotations)
    else:
        for line in report.check_failures(results, root, strict):
            click.echo(line)
        click.echo(report.check_summary(results, strict))
    return ok


def _progress(root: Path) -> Callable[[str, Any], None]:
    from runner import report

    tty = sys.stdout.isatty()

    def show(message: str, result: Any) -> None:
        if result is not None:
            click.echo(report.check_line(result, root))
        elif tty:
            click.echo(report.style(f"  ....  {message}", dim=True))

    return show


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
