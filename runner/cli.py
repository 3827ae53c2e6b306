"""The ``wf`` command line: parse options, call one job, report, exit.

Exit codes: 0 success; 1 drift or a refused overwrite; 2 bad input or usage; 3 a failed
(or, under --strict, skipped) check. Heavy modules (markdown-it, jinja2, git) are
imported inside commands, so ``wf --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from runner import __version__
from runner.errors import WfError, printable

if TYPE_CHECKING:
    from runner.build import BuildResult
    from runner.checks import CheckOptions, CheckResult
    from runner.checks.shard import Shard
    from runner.model import Source
    from runner.project import WorkflowSet

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_CHECKS, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

EPILOG = """\b
Exit codes: 0 ok; 1 drift or a refused overwrite (regenerate: wf build);
2 bad input or usage (the message names file.md:line); 3 a check failed, or was
skipped under --strict (a failed check wins over drift).
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
        except OSError as exc:  # the machine, not the documents: disk full, permissions
            where = f"{printable(str(exc.filename))}: " if exc.filename else ""
            click.echo(f"wf: {where}{exc.strerror or exc}", err=True)
            sys.exit(EXIT_FAIL)
        except KeyboardInterrupt:
            click.echo("wf: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)

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
    "--set", "set_name", metavar="NAME", help="Workflow set (a folder of workflows/)."
)
var_option = click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="KEY=VALUE",
    help="Template variable; overrides front matter and wf.yaml (repeatable).",
)
force_option = click.option(
    "--force", is_flag=True, help="Overwrite files changed outside wf (those changes are lost)."
)
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
    help="Only steps whose documents changed since git REF, and the steps after them.",
)


def _shard(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Shard | None:
    from runner.checks.shard import Shard

    try:
        return None if value is None else Shard.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _shard_count(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    from runner.checks.shard import MAX_COUNT

    if value is not None and value > MAX_COUNT:
        raise click.BadParameter(f"{value} shards: N must be at most {MAX_COUNT}")
    return value


shard_option = click.option(
    "--shard",
    metavar="K/N",
    callback=_shard,
    help="Run only shard K of N (a CI matrix job): a stable split balanced by the "
    "durations in the result cache.",
)


profile_option = click.option(
    "--profile",
    "profile",
    multiple=True,
    metavar="NAME[,NAME]",
    help="Assemble only the steps of this profile (wf.yaml profiles:); repeatable.",
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
            help="Checks run in parallel [default: cores].",
        ),
        click.option("--no-cache", is_flag=True, help="Rerun checks that passed before unchanged."),
        click.option(
            "--python",
            metavar="PATH",
            help="Interpreter (>= 3.12) for the project's venv [default: WF_PYTHON, then PATH].",
        ),
        click.option(
            "--junit",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Also write a JUnit XML report of the checks to this file.",
        ),
        profile_option,
        click.option(
            "--all-profiles",
            is_flag=True,
            help="Run the checks in every profile the set declares (wf.yaml profiles:).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wf")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project folder holding workflows/ [default: the nearest one above the current folder].",
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
      wf verify --checks      fail on drift or a failing check (CI)
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


def chosen_sets(ctx: click.Context, set_name: str | None) -> list[WorkflowSet]:
    from runner.project import load_sets

    return load_sets(project_root(ctx), [set_name] if set_name else [])


def one_set(ctx: click.Context, set_name: str | None) -> WorkflowSet:
    from runner.project import only_set

    return only_set(project_root(ctx), set_name)


@main.command("list")
@set_option
@click.pass_context
@handle_errors
def list_command(ctx: click.Context, set_name: str | None) -> None:
    """List steps with their titles, blocks, checks and output status."""
    from runner import build, report

    for wset in chosen_sets(ctx, set_name):
        stale = {d.key.split("/", 1)[0] for d in build.differences(wset)}
        heading = f"{wset.name} (workflows/{wset.name}/ -> sdlc/{wset.name}/)"
        click.echo(report.style(heading, bold=True))
        for step in wset.steps():
            status = "stale" if step.folder in stale else "up-to-date"
            click.echo("  " + report.step_line(step, status))
        for profile in wset.profiles.values():
            kept = {s.number for s in wset.profile_steps(profile)}
            left_out = [s.number for s in wset.step_files if s.number not in kept]
            click.echo("  " + report.profile_line(profile.name, left_out))


@main.command()
@click.argument("step")
@set_option
@click.pass_context
@handle_errors
def show(ctx: click.Context, step: str, set_name: str | None) -> None:
    """Show one step: its document, output folder, blocks, targets and checks."""
    from runner import report

    wset = one_set(ctx, set_name)
    for step_file in wset.select([step]):
        parsed = wset.step(step_file)
        for line in report.step_detail(parsed, wset.root, wset.name):
            click.echo(line)
        if parsed.fragments:  # only then can this step define a name nothing uses
            from runner.build import plan_set

            mine = [w for w in plan_set(wset).warnings if w[0].file == parsed.path]
            _warn(mine, wset.root, "text")


@main.command()
@click.argument("steps", nargs=-1)
@set_option
@force_option
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--commit", is_flag=True, help="git commit the regenerated sdlc/ tree afterwards.")
@click.option(
    "--fail-on-change",
    is_flag=True,
    help="Exit 1 when a file changed (a pre-commit hook: review, git add, commit again).",
)
@click.pass_context
@handle_errors
def build(
    ctx: click.Context,
    steps: tuple[str, ...],
    set_name: str | None,
    force: bool,
    dry_run: bool,
    commit: bool,
    fail_on_change: bool,
) -> None:
    """Regenerate sdlc/<set>/ from the documents (all steps, or the STEPS given).

    Unchanged files are not rewritten; files no document produces any more are
    removed; files edited by hand are refused unless --force. Every set is planned
    and checked before anything is written.
    """
    from runner import build as build_job

    sets = chosen_sets(ctx, set_name)
    if commit:
        from runner.gitops import require_repository

        require_repository(project_root(ctx))
    results = build_job.build(sets, steps, force, dry_run)
    for result in results:
        _report_build(result, dry_run)
    if commit and not dry_run:
        sha = build_job.commit_outputs(project_root(ctx), [wset.name for wset in sets])
        click.echo(f"git: committed {sha[:12]}" if sha else "git: nothing to commit")
    if fail_on_change and any(result.changed for result in results):
        click.echo("wf: sdlc/ was regenerated; review and stage it (git add sdlc)", err=True)
        sys.exit(EXIT_FAIL)


def _report_build(result: BuildResult, dry_run: bool) -> None:
    name = result.wset.name
    prefix = "would " if dry_run else ""
    if result.actions:  # one write: a build may list thousands
        click.echo("\n".join(f"  {prefix}{action.describe()}" for action in result.actions))
    for key in result.untracked:
        shown = printable(f"sdlc/{name}/{key}")
        click.echo(f"  warning: {shown} is not produced by any document", err=True)
    if not result.changed:
        click.echo(f"{name}: up to date")
    else:
        verb = "would change" if dry_run else "changed"
        click.echo(f"{name}: {len(result.actions)} file(s) {verb}")


@main.command()
@click.argument("step")
@set_option
@force_option
@click.option("--no-checks", is_flag=True, help="Only regenerate; do not run the checks.")
@check_options
@click.pass_context
@handle_errors
def run(
    ctx: click.Context,
    step: str,
    set_name: str | None,
    force: bool,
    no_checks: bool,
    **check_args: Any,
) -> None:
    """Regenerate one STEP's output folder, then run its checks.

    The checks run in the project assembled from every step up to STEP (of each
    --profile's steps, when given).
    """
    from runner import build as build_job
    from runner.errors import SelectionError

    wset = one_set(ctx, set_name)
    chosen = wset.select([step])
    if len(chosen) != 1:
        raise SelectionError(f"run takes one step; {step!r} selects several (use wf check)")
    for profile in wset.choose_profiles(check_args["profile"]) if check_args["profile"] else []:
        if chosen[0] not in wset.profile_steps(profile):
            raise SelectionError(f"profile {profile.name!r} leaves out step {chosen[0].number}")
    for result in build_job.build([wset], (step,), force, python=check_args["python"]):
        _report_build(result, dry_run=False)
    if not no_checks:
        sys.exit(_checks([wset], (step,), "text", None, **check_args))


@main.command()
@click.argument("steps", nargs=-1)
@set_option
@since_option
@format_option
@shard_option
@click.option(
    "--list-shards",
    type=click.IntRange(min=1),
    callback=_shard_count,
    metavar="N",
    help="Show how the checks split into N shards; run nothing.",
)
@check_options
@click.pass_context
@handle_errors
def check(
    ctx: click.Context,
    steps: tuple[str, ...],
    set_name: str | None,
    since: str | None,
    fmt: str,
    list_shards: int | None,
    **check_args: Any,
) -> None:
    """Run the checks of the STEPS given (default: all) without regenerating.

    Each check runs in a venv built from the assembled pyproject.toml; checks that
    need PostgreSQL, Redis or S3 get a fresh database/bucket of their own.
    """
    sets = [one_set(ctx, set_name)] if steps else chosen_sets(ctx, set_name)
    if list_shards is not None:
        profiles = (check_args["profile"], check_args["all_profiles"])
        _list_shards(sets, steps, since, fmt, list_shards, profiles)
        return
    sys.exit(_checks(sets, steps, fmt, since, **check_args))


def _list_shards(
    sets: list[WorkflowSet],
    steps: tuple[str, ...],
    since: str | None,
    fmt: str,
    count: int,
    profiles: tuple[tuple[str, ...], bool],
) -> None:
    from runner import report
    from runner.checks import CheckOptions
    from runner.project import cache_dir
    from runner.validate import plan_sets, shard_split

    root = sets[0].root if sets else Path.cwd()
    plans = plan_sets(sets, steps, since, None, *profiles)
    split = shard_split(plans, CheckOptions(cache_dir=cache_dir(root)), count)
    specs = {i: spec for plan in plans for i, spec in plan.specs().items()}
    if fmt == "json":
        click.echo(report.dumps(report.shards_json(split, specs, root)))
    else:
        for line in report.shards_text(split, specs, root):
            click.echo(line)


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
@shard_option
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
    shard: Shard | None,
    **check_args: Any,
) -> None:
    """Check that sdlc/ is exactly what the documents produce (exit 1 on drift).

    Differences are categorised: stale (document changed), hand-edited, missing,
    orphaned (no document produces it any more), untracked, manifest. With --checks,
    every step's checks run too; in CI use: wf verify --checks --committed.
    """
    from runner import report
    from runner.build import verify as verify_job

    sets = chosen_sets(ctx, set_name)
    result = verify_job(sets, committed, rederive=with_checks, python=check_args["python"])
    _warn(result.warnings, sets[0].root if sets else Path.cwd(), fmt)
    found: dict[str, Any] = {"drift": report.verification_json(result)}
    if committed:
        found["uncommitted"] = report.uncommitted_json(result)
    if fmt == "text":
        click.echo(report.verification_text(result, diff))
    elif fmt == "github":
        click.echo(report.verification_github(result), nl=False)
    code = EXIT_OK if result.ok else EXIT_FAIL
    if shard is not None and not with_checks:
        raise click.UsageError("--shard splits the checks: use it with --checks")
    if with_checks:
        code = _checks(sets, (), fmt, since, json_head=found, shard=shard, **check_args)
    elif fmt == "json":
        click.echo(report.dumps({"ok": result.ok, "exit_code": code, **found}))
    sys.exit(code)


def _warn(warnings: list[tuple[Source, str]], root: Path, fmt: str) -> None:
    """Warnings (a named block nothing uses): stderr, or ``::warning`` for GitHub."""
    from runner import report

    for line in report.warning_lines(warnings, root, github=fmt == "github"):
        click.echo(line, err=fmt != "github")


def strict_default(strict: bool | None) -> bool:
    """``--strict`` defaults to on in CI (the CI environment variable is set)."""
    if strict is not None:
        return strict
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def _checks(
    sets: list[WorkflowSet],
    steps: tuple[str, ...],
    fmt: str,
    since: str | None,
    strict: bool | None,
    jobs: int | None,
    no_cache: bool,
    python: str | None,
    junit: Path | None,
    profile: tuple[str, ...] = (),
    all_profiles: bool = False,
    json_head: dict[str, Any] | None = None,
    shard: Shard | None = None,
) -> int:
    """Run checks for the sets and report them in ``fmt``; the exit code: EXIT_CHECKS
    when one failed, else EXIT_FAIL when ``json_head`` holds drift, else EXIT_OK."""
    from runner import report
    from runner.checks import CheckOptions, github_annotations, junit_xml, results_json
    from runner.project import cache_dir
    from runner.transaction import write_atomic

    if junit is not None and not junit.parent.is_dir():
        raise WfError(f"--junit {junit}: folder {junit.parent} does not exist")
    strict = strict_default(strict)
    root = sets[0].root if sets else Path.cwd()
    options = CheckOptions(
        cache_dir=cache_dir(root),
        strict=strict,
        jobs=jobs or os.cpu_count() or 1,
        use_cache=not no_cache,
        python=python,
    )
    profiles = (profile, all_profiles)
    results, shard_head = _run_shard(sets, steps, since, options, fmt == "text", shard, profiles)
    ok = all(r.ok(strict) for r in results)
    drift = any((json_head or {}).values())
    code = EXIT_CHECKS if not ok else EXIT_FAIL if drift else EXIT_OK
    if junit is not None:
        write_atomic(junit, junit_xml(results, strict, root).encode("utf-8"))
    if fmt == "json":
        head = json_head or {}
        payload = {"ok": code == EXIT_OK, "exit_code": code, **head, **shard_head}
        payload["checks"] = results_json(results, strict, root)
        click.echo(report.dumps(payload))
    elif fmt == "github":
        annotations = github_annotations(results, strict, root)
        if annotations:
            click.echo(annotations)
    else:
        for line in report.check_failures(results, root):
            click.echo(line)
        if shard_head:
            click.echo(report.shard_line(shard_head["shard"]))
        click.echo(report.check_summary(results, strict))
    return code


def _run_shard(
    sets: list[WorkflowSet],
    steps: tuple[str, ...],
    since: str | None,
    options: CheckOptions,
    show: bool,
    shard: Shard | None,
    profiles: tuple[tuple[str, ...], bool] = ((), False),
) -> tuple[list[CheckResult], dict[str, Any]]:
    """Plan the checks of every set, keep ``shard``'s part (all without one), run them
    (with ``show``: showing their progress).

    Also returns what the JSON report says about the shard ({} without one).
    """
    from runner.progress import CheckProgress
    from runner.validate import keep_shard, plan_sets, run_planned

    plans = plan_sets(sets, steps, since, options.python, *profiles)
    head: dict[str, Any] = {}
    if shard is not None:
        plans, options, head["shard"] = keep_shard(plans, options, shard)
    if not show:
        return [r for located in run_planned(plans, options) for r in located], head
    root = sets[0].root if sets else Path.cwd()
    with CheckProgress(root, sum(len(plan.jobs) for plan in plans), echo=click.echo) as progress:
        results = [r for located in run_planned(plans, options, progress) for r in located]
    return results, head


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@set_option
@click.option(
    "--from",
    "from_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Take the edits from a project wf export made (PATHS inside it).",
)
@click.option(
    "--steps", "steps", multiple=True, metavar="STEPS", help="With --from: the exported steps."
)
@click.option("--dry-run", is_flag=True, help="Show the document diff; write nothing.")
@click.pass_context
@handle_errors
def sync(
    ctx: click.Context,
    paths: tuple[Path, ...],
    set_name: str | None,
    from_dir: Path | None,
    steps: tuple[str, ...],
    dry_run: bool,
) -> None:
    """Write edits made in output files back into the blocks that own them.

    PATHS are files (or folders) of sdlc/<set>/ edited by hand [default: every edited
    file]; with --from DIR, files of a project made by wf export. Each edit replaces the
    lines of its block; prose, fences, attributes, indentation and line endings stay
    byte for byte. Then sdlc/ is rebuilt. A file no single block produces as written
    (appends, patches, templates, generators, a later step rewriting it) is refused with
    the reason and its diff, to apply by hand; it is left as it is (exit 1).
    """
    from runner.sync import sync as sync_job

    if steps and from_dir is None:
        raise click.UsageError("--steps goes with --from")
    sets = [one_set(ctx, set_name)] if from_dir is not None else chosen_sets(ctx, set_name)
    result = sync_job(sets, paths, from_dir, steps, dry_run)
    root = sets[0].root
    for edit in result.synced:
        verb = "would sync" if dry_run else "synced"
        owner = edit.planned.sources[0].label(root)
        click.echo(f"  {verb:<10} {edit.shown} -> {owner}")
    if dry_run:
        click.echo(result.document_diff(root), nl=False)
    for built in result.built:
        for action in built.actions:
            click.echo(f"  {action.describe()}")
        click.echo(f"{built.wset.name}: rebuilt; {len(built.actions)} more file(s) changed")
    for refusal in result.refused:
        click.echo(f"wf: {refusal.edit.shown}: not synced: {refusal.reason}", err=True)
        click.echo(f"  apply by hand (the file is left as it is):\n{refusal.edit.diff()}", nl=False)
    if not result.synced and not result.refused:
        click.echo("nothing to sync: no output differs from its documents")
    sys.exit(EXIT_FAIL if result.refused else EXIT_OK)


@main.command("watch")
@set_option
@click.option("--no-checks", is_flag=True, help="Only rebuild; do not run checks.")
@click.option(
    "--check",
    "names",
    multiple=True,
    metavar="NAME",
    help="Run only the checks with this name (a glob; repeatable).",
)
@click.option(
    "--debounce",
    type=click.IntRange(min=50),
    default=400,
    show_default=True,
    metavar="MS",
    help="Wait this long for more saves before rebuilding.",
)
@check_options
@click.pass_context
@handle_errors
def watch_command(
    ctx: click.Context,
    set_name: str | None,
    no_checks: bool,
    names: tuple[str, ...],
    debounce: int,
    strict: bool | None,
    jobs: int | None,
    no_cache: bool,
    python: str | None,
    junit: Path | None,
    profile: tuple[str, ...],
    all_profiles: bool,
) -> None:
    """Rebuild when a document is saved, and rerun the checks of the changed steps.

    The checks of the steps whose documents changed run (and those of later steps,
    whose projects contain the changed files), with live progress on a terminal. A
    document with an error shows its file.md:line; the outputs stay as they were.
    Ctrl-C stops (exit 0).
    """
    from runner.checks import CheckOptions
    from runner.project import cache_dir
    from runner.watch import WatchOptions, watch

    if junit is not None or profile or all_profiles:
        raise click.UsageError("--junit, --profile and --all-profiles do not go with watch")
    root = project_root(ctx)
    if set_name:
        one_set(ctx, set_name)  # an unknown set is an error now, not on the first save
    options = WatchOptions((set_name,) if set_name else (), not no_checks, names, debounce)
    check = CheckOptions(
        cache_dir=cache_dir(root),
        strict=strict_default(strict),
        jobs=jobs or os.cpu_count() or 1,
        use_cache=not no_cache,
        python=python,
    )
    sys.exit(watch(root, options, check, click.echo))


@main.command()
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--steps", "steps", multiple=True, metavar="STEPS", help="Steps to include [default: all]."
)
@set_option
@var_option
@click.option("--git-init", is_flag=True, help="git init the folder and commit the project.")
@profile_option
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
    profile: tuple[str, ...],
    force: bool,
) -> None:
    """Assemble the chosen steps (of one profile, with --profile) into a standalone
    project in TARGET."""
    from runner.assemble import export as export_job
    from runner.errors import SelectionError

    wset = one_set(ctx, set_name)
    chosen = wset.choose_profiles(profile) if profile else []
    if len(chosen) > 1:
        raise SelectionError("export takes one --profile")
    only = chosen[0] if chosen else None
    result = export_job(wset, target, steps, parse_vars(variables), git_init, force, only)
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
    from runner.assemble import apply as apply_job

    wset = one_set(ctx, set_name)
    result = apply_job(wset, step, target, parse_vars(variables), force, dry_run)
    prefix = "would " if dry_run else ""
    if result.actions:  # one write: a build may list thousands
        click.echo("\n".join(f"  {prefix}{action.describe()}" for action in result.actions))
    for path in result.kept:
        click.echo(f"  kept    {printable(path)} (yours: skeleton files are never overwritten)")
    verb = "would change" if dry_run else "changed"
    click.echo(f"{target}: {len(result.actions)} file(s) {verb}")


if __name__ == "__main__":  # pragma: no cover
    main()
