"""Running commands: verdicts, output, timeouts, workspaces, parallelism, validation."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.checks import CheckResult, run_checks
from runner.checks._execute import GRACE, Interrupted, ProcessGroups
from runner.checks._run import run_parent
from runner.errors import CheckSetupError


def own_workspaces() -> list[Path]:
    """Workspaces this test process left behind (other runs may share the parent)."""
    parent = run_parent()
    if not parent.is_dir():
        return []
    return [p for p in parent.iterdir() if p.name.startswith(f"{os.getpid()}-")]


def test_passing_check_runs_in_workspace_with_the_files(make_job, options):
    job = make_job('test "$(cat pkg/data.txt)" = hello && pwd', {"pkg/data.txt": b"hello"})
    [result] = run_checks([job], options)
    assert result.status == "passed", result.output
    assert result.ok(strict=True)
    assert result.reason == ""
    assert not result.cached
    workspace = Path(result.output.strip())
    assert workspace.name == "workspace"
    assert run_parent() in workspace.parents
    assert not workspace.exists()  # removed after the run


def test_failing_check_reports_exit_code_and_combined_output(make_job, options):
    job = make_job("echo to-stdout; echo to-stderr >&2; exit 3")
    [result] = run_checks([job], options)
    assert result.status == "failed"
    assert not result.ok(strict=False)
    assert "to-stdout" in result.output
    assert "to-stderr" in result.output
    assert "exit code 3, expected 0" in result.reason
    assert result.reason.endswith("to-stderr")  # the last line of output, to act on


def test_expected_nonzero_exit_passes_and_zero_then_fails(make_job, options):
    results = run_checks(
        [
            make_job("exit 2", name="two", expect_exit=2),
            make_job("true", name="zero", expect_exit=2),
        ],
        options,
    )
    assert [r.status for r in results] == ["passed", "failed"]
    assert "exit code 0, expected 2" in results[1].reason


def test_bash_runs_with_errexit_and_pipefail(make_job, options):
    results = run_checks(
        [
            make_job("false; echo not-reached", name="errexit"),
            make_job("false | cat", name="pipefail"),
        ],
        options,
    )
    assert [r.status for r in results] == ["failed", "failed"]
    assert "not-reached" not in results[0].output


def test_expect_output_is_a_multiline_regex_over_stdout_and_stderr(make_job, options):
    command = "echo 'collected 3 items'; echo '3 passed in 0.1s' >&2"
    results = run_checks(
        [
            make_job(command, name="match", expect_output=r"^\d+ passed"),
            make_job(command, name="mismatch", expect_output=r"^\d+ failed"),
        ],
        options,
    )
    assert results[0].status == "passed"
    assert results[1].status == "failed"
    assert "does not match" in results[1].reason
    assert r"^\d+ failed" in results[1].reason


def test_timeout_kills_the_whole_process_group(make_job, options, tmp_path, pid_gone):
    pidfile = tmp_path / "grandchild.pid"
    job = make_job(
        f"sleep 300 & echo $! > {pidfile}; sleep 300",
        timeout=1.0,
    )
    start = time.monotonic()
    [result] = run_checks([job], options)
    elapsed = time.monotonic() - start
    assert result.status == "timeout"
    assert "timed out after 1s" in result.reason
    assert not result.ok(strict=False)
    assert elapsed < 1.0 + GRACE + 2.0
    pid = int(pidfile.read_text())
    assert pid_gone(pid), f"grandchild {pid} survived the timeout"


def test_term_ignoring_process_is_killed_after_grace(make_job, options, tmp_path, pid_gone):
    pidfile = tmp_path / "stubborn.pid"
    stubborn = f"bash -c 'trap \"\" TERM; echo $$ > {pidfile}; while :; do sleep 0.1; done'"
    job = make_job(f"{stubborn} & sleep 300", timeout=1.0)
    [result] = run_checks([job], options)
    assert result.status == "timeout"
    assert pid_gone(int(pidfile.read_text()))


def test_background_process_left_by_a_passing_check_is_ended(make_job, options, tmp_path, pid_gone):
    pidfile = tmp_path / "leftover.pid"
    job = make_job(f"sleep 300 & echo $! > {pidfile}; echo done")
    start = time.monotonic()
    [result] = run_checks([job], options)
    assert result.status == "passed"
    assert time.monotonic() - start < GRACE + 2.0  # the open stdout did not block us
    assert pid_gone(int(pidfile.read_text()))


def test_checks_run_in_parallel_in_private_workspaces(make_job, options):
    jobs = [
        make_job('test ! -e marker; touch marker; sleep 1; ls; test "$(ls)" = marker', name=f"c{i}")
        for i in range(3)
    ]
    start = time.monotonic()
    results = run_checks(jobs, dataclasses.replace(options, jobs=3))
    elapsed = time.monotonic() - start
    assert [r.status for r in results] == ["passed"] * 3, [r.output for r in results]
    assert elapsed < 2.5, f"3 x 1 s checks with jobs=3 took {elapsed:.1f}s"
    assert own_workspaces() == []


def test_each_check_has_its_own_tmpdir(make_job, options):
    job = make_job('test -d "$TMPDIR" && touch "$TMPDIR/x" && echo "$TMPDIR"')
    [result] = run_checks([job], options)
    assert result.status == "passed"
    tmpdir = Path(result.output.strip())
    assert run_parent() in tmpdir.parents
    assert not tmpdir.exists()


def test_results_keep_job_order_and_progress_reports_start_and_end(make_job, options):
    jobs = [make_job(f"sleep 0.{3 - i}", name=f"c{i}") for i in range(3)]
    events: list[tuple[str, CheckResult | None]] = []
    results = run_checks(jobs, options, progress=lambda msg, res: events.append((msg, res)))
    assert [r.spec.name for r in results] == ["c0", "c1", "c2"]
    starts = [msg for msg, res in events if res is None]
    ends = [res for _, res in events if res is not None]
    assert sorted(starts) == [f"[01] c{i} running" for i in range(3)]
    assert sorted(r.spec.name for r in ends) == ["c0", "c1", "c2"]


def test_output_is_tail_limited(make_job, options):
    [result] = run_checks([make_job("seq 1 1000")], options)
    lines = result.output.splitlines()
    assert len(lines) == 201
    assert lines[0].startswith("[... 800 lines omitted")
    assert lines[-1] == "1000"


def test_executable_bit_for_scripts_in_the_tree(make_job, options):
    files = {"scripts/hello.sh": b"#!/bin/sh\necho hi from script\n"}
    [result] = run_checks([make_job("./scripts/hello.sh", files)], options)
    assert result.status == "passed"
    assert "hi from script" in result.output


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"needs": ("mysql",)}, "unknown service(s) mysql"),
        ({"expect_output": "("}, "not a valid regex"),
    ],
)
def test_invalid_specs_are_setup_errors_at_their_markdown_line(
    make_job, options, tmp_path, fields, message
):
    side = tmp_path / "ran"
    good = make_job(f"touch {side}", name="good")
    bad = make_job("true", name="bad", line=42, **fields)
    with pytest.raises(CheckSetupError) as info:
        run_checks([good, bad], options)
    assert message in info.value.message
    assert info.value.line == 42
    assert str(info.value.file).endswith("01_demo.md")
    assert not side.exists()  # nothing ran


def test_no_jobs_no_work(options):
    assert run_checks([], options) == []
    assert not options.cache_dir.exists()


def test_interrupted_run_kills_running_checks(make_job, options, tmp_path, pid_gone):
    pidfile = tmp_path / "long.pid"
    jobs = [
        make_job(f"echo $$ > {pidfile}; sleep 300", name="long"),
        make_job("sleep 0.5", name="short"),
    ]

    def progress(_message: str, result: CheckResult | None) -> None:
        if result is not None and result.spec.name == "short":
            raise KeyboardInterrupt  # as if Ctrl-C arrived while "long" runs

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_checks(jobs, dataclasses.replace(options, jobs=2), progress)
    assert time.monotonic() - start < 5.0
    assert pid_gone(int(pidfile.read_text()))
    assert own_workspaces() == []


def test_stopped_process_groups_refuse_new_processes():
    groups = ProcessGroups()
    proc = groups.spawn(["sleep", "300"])
    groups.kill_all()
    assert proc.wait(timeout=5) == -signal.SIGKILL
    with pytest.raises(Interrupted):
        groups.spawn(["true"])


def test_read_only_leftovers_are_removed(make_job, options):
    job = make_job("mkdir -p ro/sub && touch ro/sub/f && chmod 500 ro/sub ro && chmod 400 ro/sub/f")
    [result] = run_checks([job], options)
    assert result.status == "passed"
    assert own_workspaces() == []


RUNNER_SCRIPT = """
import sys
from pathlib import Path
from runner.checks import CheckJob, CheckOptions, run_checks
from runner.model import CheckSpec, Source

spec = CheckSpec("long", sys.argv[2], "01", Source(Path("01_a.md"), 1))
run_checks([CheckJob(spec, {})], CheckOptions(cache_dir=Path(sys.argv[1])))
"""


def test_terminated_runner_kills_its_checks(tmp_path, pid_gone):
    pidfile = tmp_path / "check.pid"
    runner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUNNER_SCRIPT,
            str(tmp_path / ".wf"),
            f"echo $$ > {pidfile}; sleep 300",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not pidfile.exists() or not pidfile.read_text().strip():
            assert time.monotonic() < deadline, "the check never started"
            time.sleep(0.05)
        runner.send_signal(signal.SIGTERM)  # e.g. CI cancelled the job
        runner.wait(timeout=10)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert pid_gone(int(pidfile.read_text()))
    assert own_workspaces() == []


def test_tools_honouring_gitignore_still_see_the_workspace(make_job, options, tmp_path):
    # The project usually git-ignores .wf/; workspaces must not inherit that, or a
    # linter that honours .gitignore would pass without reading a single file.
    (tmp_path / ".gitignore").write_text(".wf/\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    ruff = Path(sys.executable).with_name("ruff")
    job = make_job(f"{ruff} check --no-cache --select F401 .", {"app.py": b"import os\n"})
    [result] = run_checks([job], options)
    assert result.status == "failed", result.output
    assert "F401" in result.output


def test_cwd_home_and_tmpdir_are_the_checks_own(make_job, options):
    """cwd is the workspace; HOME and TMPDIR are folders beside it, gone afterwards."""
    job = make_job(
        'echo "$PWD"; echo "$HOME"; echo "$TMPDIR"; echo "$XDG_CACHE_HOME"; touch ~/.dotfile',
        {"marker.txt": b"here\n"},
    )
    [result] = run_checks([job], options)
    assert result.status == "passed", result.output
    cwd, home, tmp, cache = (Path(line) for line in result.output.split())
    assert (cwd / "marker.txt").name == "marker.txt" and cwd.name == "workspace"
    assert home.parent == cwd.parent == tmp.parent  # one private folder per check
    assert run_parent() in home.parents
    assert home != Path.home() and not (Path.home() / ".dotfile").exists()
    assert not home.exists() and not tmp.exists()
    assert cache == Path(options.env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
