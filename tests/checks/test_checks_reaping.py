"""No process a check starts outlives it: not via setsid, nohup, double forks, a killed runner."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runner.checks import _execute, run_checks

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def escapee(pidfile: Path, seconds: int) -> str:
    """Shell code for a process in a session of its own that writes its pid, then sleeps."""
    return f"setsid bash -c 'echo $$ > {pidfile}; exec sleep {seconds}'"


def wait_for_file(pidfile: Path) -> str:
    return f"while [ ! -s {pidfile} ]; do sleep 0.01; done"


@pytest.fixture
def reap_leftovers() -> Iterator[Callable[[Path], int]]:
    """read(pidfile) -> pid; every pid read is SIGKILLed at teardown if it still runs."""
    pids: list[int] = []

    def read(pidfile: Path) -> int:
        pid = int(pidfile.read_text())
        pids.append(pid)
        return pid

    yield read
    for pid in pids:  # a failing test must not leave sleeps behind
        with contextlib.suppress(OSError):
            if b"sleep" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    "launch",
    [
        pytest.param("{escapee} &", id="setsid"),
        pytest.param("nohup {escapee} > /dev/null 2>&1 &", id="nohup-setsid"),
        pytest.param("( {escapee} & ) ; true", id="double-fork-setsid"),
        pytest.param("( ( {escapee} & ) & ) ; true", id="triple-fork-setsid"),
    ],
)
def test_a_process_that_left_the_session_does_not_outlive_a_passing_check(
    make_job, options, tmp_path, pid_gone, reap_leftovers, launch
):
    pidfile = tmp_path / "escapee.pid"
    command = launch.format(escapee=escapee(pidfile, 301)) + "\n" + wait_for_file(pidfile)
    start = time.monotonic()
    [result] = run_checks([make_job(command)], options)
    assert result.status == "passed", result.output
    assert pid_gone(reap_leftovers(pidfile)), "the escaped process outlived the check"
    assert time.monotonic() - start < 3.0  # it ended on SIGTERM: no grace period spent


def test_an_escaped_process_is_ended_on_failure_and_on_timeout(
    make_job, options, tmp_path, pid_gone, reap_leftovers
):
    failing, hanging = tmp_path / "failing.pid", tmp_path / "hanging.pid"
    jobs = [
        make_job(f"{escapee(failing, 302)} & {wait_for_file(failing)}; exit 3", name="fails"),
        make_job(
            f"{escapee(hanging, 302)} & {wait_for_file(hanging)}; sleep 300",
            name="hangs",
            timeout=1.0,
        ),
    ]
    results = run_checks(jobs, dataclasses.replace(options, jobs=2))
    pids = [reap_leftovers(failing), reap_leftovers(hanging)]
    assert [r.status for r in results] == ["failed", "timeout"]
    assert "exit code 3" in results[0].reason
    assert all(pid_gone(pid) for pid in pids)


def test_a_term_ignoring_escaped_process_is_killed(
    make_job, options, tmp_path, pid_gone, reap_leftovers, monkeypatch
):
    monkeypatch.setattr(_execute, "GRACE", 0.5)  # SIGKILL after half a second
    pidfile = tmp_path / "stubborn.pid"
    stubborn = f"setsid bash -c 'trap \"\" TERM; echo $$ > {pidfile}; while :; do sleep 0.1; done'"
    [result] = run_checks([make_job(f"{stubborn} & {wait_for_file(pidfile)}")], options)
    assert result.status == "passed"
    assert pid_gone(reap_leftovers(pidfile))


def test_ending_one_check_leaves_a_parallel_check_alone(
    make_job, options, tmp_path, pid_gone, reap_leftovers
):
    quick, other = tmp_path / "quick.pid", tmp_path / "other.pid"
    alive_after = tmp_path / "alive-after"
    jobs = [
        make_job(f"{escapee(quick, 303)} & {wait_for_file(quick)}", name="quick"),
        make_job(
            # a helper of its own in another session, still needed after "quick" ended
            f"{escapee(other, 303)} & {wait_for_file(other)}; "
            f"while [ ! -e {tmp_path}/quick-done ]; do sleep 0.02; done; "
            f"kill -0 $(cat {other}) && touch {alive_after}",
            name="slow",
        ),
    ]

    def progress(message: str, result: object) -> None:
        if result is not None and "quick passed" in message:
            (tmp_path / "quick-done").touch()

    results = run_checks(jobs, dataclasses.replace(options, jobs=2), progress)
    pids = [reap_leftovers(quick), reap_leftovers(other)]
    assert [r.status for r in results] == ["passed", "passed"], [r.output for r in results]
    assert alive_after.exists(), "the other check's process was killed with the first check"
    assert all(pid_gone(pid) for pid in pids)


def test_checks_still_get_a_default_sigpipe(make_job, options):
    # `yes` must die of SIGPIPE (status 141), not see EPIPE and complain (status 1)
    [result] = run_checks([make_job("yes | head -n 1 > /dev/null || test $? = 141")], options)
    assert result.status == "passed", result.output


RUNNER_SCRIPT = """
import sys
from pathlib import Path
from runner.checks import CheckJob, CheckOptions, run_checks
from runner.model import CheckSpec, Source

spec = CheckSpec("long", sys.argv[2], "01", Source(Path("01_a.md"), 1))
run_checks([CheckJob(spec, {})], CheckOptions(cache_dir=Path(sys.argv[1])))
"""


def test_a_runner_killed_with_sigkill_takes_its_checks_along(tmp_path, pid_gone, reap_leftovers):
    inside, outside = tmp_path / "inside.pid", tmp_path / "outside.pid"
    command = f"{escapee(outside, 304)} & echo $$ > {inside}; sleep 304"
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER_SCRIPT, str(tmp_path / ".wf"), command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not (inside.exists() and inside.read_text().strip() and outside.exists()):
            assert time.monotonic() < deadline, "the check never started"
            time.sleep(0.05)
        time.sleep(0.1)  # the pid files are complete
        runner.kill()  # no chance to clean up: SIGKILL
        runner.wait(timeout=10)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    pids = [reap_leftovers(inside), reap_leftovers(outside)]
    deadline = time.monotonic() + 5
    while not all(pid_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(pid_gone(pid) for pid in pids)


HOPPER = """\
import os, signal, sys, time
marker, mode, until = sys.argv[1], sys.argv[2], float(sys.argv[3])
if "ignore" in mode:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
while time.time() < until:  # never forever, should a test fail
    if os.fork():
        os._exit(0)  # the parent exits at once: the pid "hops" to the child
    if "setsid" in mode:
        os.setsid()
"""


def hoppers(marker: str) -> list[int]:
    """Live processes whose command line carries ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit() or marker.encode() not in (entry / "cmdline").read_bytes():
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.parametrize("mode", ["plain", "setsid", "ignore-term-setsid"])
@pytest.mark.parametrize("ending", ["exit", "timeout"])
def test_a_pid_hopper_does_not_outlive_the_check(make_job, options, tmp_path, mode, ending):
    """A process that keeps forking and exiting is a new pid at every look."""
    script = tmp_path / "hopper.py"
    script.write_text(HOPPER)
    marker = f"wf-hopper-{os.getpid()}-{mode}-{ending}"
    start = f"{sys.executable} {script} {marker} {mode} {time.time() + 60} &\n"
    command = start + ("sleep 0.3" if ending == "exit" else "sleep 300")
    try:
        began = time.monotonic()
        [result] = run_checks([make_job(command, timeout=1.0)], options)
        elapsed = time.monotonic() - began
        assert result.status == ("passed" if ending == "exit" else "timeout"), result.output
        time.sleep(0.3)  # a survivor would still be hopping now
        assert hoppers(marker) == []
        if "ignore" not in mode:  # each hop got SIGTERM: no grace period spent
            assert elapsed < _execute.GRACE, f"the hopper lived on for {elapsed:.1f}s"
    finally:
        for _ in range(2000):  # a failed test must not leave a hopper running
            left = hoppers(marker)
            if not left:
                break
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
