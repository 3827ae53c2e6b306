"""Stopping ``wf check`` (SIGTERM, Ctrl-C) ends it promptly, with one line and no
orphaned check processes (DESIGN §4, §9: checks never outlive the run)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .util import check_block, run_json, step_doc, write_project

WF = Path(sys.executable).parent / "wf"


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_wf_check_and_its_grandchild(tmp_path, signum, pid_gone):
    pidfile = tmp_path / "sleep.pid"
    body = f"bash -c 'echo $$ > {pidfile}.tmp && mv {pidfile}.tmp {pidfile} && exec sleep 60'"
    doc = step_doc("Long", check_block(body, name="long-sleep"))
    root = write_project(tmp_path / "proj", {"01_long.md": doc})
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["NO_COLOR"] = "1"
    proc = subprocess.Popen(
        [str(WF), "--root", str(root), "check"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    sleep_pid = None
    try:
        # Starting wf and its first check is not what is tested: on a loaded machine
        # (CI: load 10-18 on 2 cores) that alone took over 10 s; 120 s is only a bound.
        assert wait_until(pidfile.exists, 120), "the check never started"
        sleep_pid = int(pidfile.read_text())
        assert not pid_gone(sleep_pid)
        # No settling pause: the signal may come as soon as the check runs (the runner
        # handles SIGTERM from before it submits the first check).
        proc.send_signal(signum)
        start = time.monotonic()
        _, stderr = proc.communicate(timeout=20)
        elapsed = time.monotonic() - start
        assert proc.returncode != 0
        assert elapsed < 10, f"wf took {elapsed:.1f}s to stop"
        assert stderr.strip().splitlines() == ["wf: interrupted"], stderr
        assert wait_until(lambda: pid_gone(sleep_pid), 5), "the check's grandchild survived wf"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if sleep_pid is not None and not pid_gone(sleep_pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(sleep_pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("tail", "status"),
    [("sleep 30", "timeout"), ("true", "passed")],
    ids=["timed-out", "exited"],
)
def test_background_processes_of_a_check_do_not_outlive_it(tmp_path, tail, status, pid_gone):
    pidfile = tmp_path / "bg.pid"
    body = f"sleep 60 &\necho $! > {pidfile}\n{tail}"
    doc = step_doc("Bg", check_block(body, name="bg", timeout=1))
    root = write_project(tmp_path / "proj", {"01_bg.md": doc})
    code, report = run_json(root, "check")
    bg_pid = int(pidfile.read_text())
    try:
        assert [c["status"] for c in report["checks"]] == [status]
        assert code == (0 if status == "passed" else 3)
        assert wait_until(lambda: pid_gone(bg_pid), 5), "a background process outlived its check"
    finally:
        if not pid_gone(bg_pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(bg_pid, signal.SIGKILL)
