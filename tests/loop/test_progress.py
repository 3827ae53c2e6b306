"""Live progress of a check run on a terminal; plain lines in a pipe or under CI;
NO_COLOR respected; rich stays out of ``wf --help`` (README "A terminal that helps")."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from core.helpers import block, write_project

from runner.checks import CheckResult
from runner.model import CheckSpec, Source
from runner.progress import CheckProgress

CHECKS = (
    "# One\n\n"
    + block("bash check name=slow", "sleep 1.5\n")
    + "\n"
    + block("bash check name=quick", "true\n")
)
ANSI_COLOUR = ("\x1b[32m", "\x1b[1;32m", "\x1b[31m", "\x1b[1;31m")


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR", "WF_CACHE_KEY")}
    env.update(TERM="xterm-256color", COLUMNS="100", **extra)
    return env


def on_terminal(root: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run ``wf check --no-cache`` with a pseudo-terminal as stdout; all it printed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", "check", "--no-cache"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=root,
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return process.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_shows_done_of_total_and_the_running_checks(tmp_path):
    root = write_project(tmp_path, {"01_one.md": CHECKS})
    code, output = on_terminal(root, environment())
    assert code == 0
    # The quick check may finish before the first frame, so "0/2" is not asserted.
    assert "checks 1/2 done" in output
    assert "running   [01] slow" in output
    assert "PASS" in output and "01 slow" in output and "01 quick" in output
    assert "checks: 2 passed, 0 failed, 0 skipped" in output
    assert any(code in output for code in ANSI_COLOUR)


def test_no_color_keeps_the_live_area_without_colour(tmp_path):
    root = write_project(tmp_path, {"01_one.md": CHECKS})
    code, output = on_terminal(root, environment(NO_COLOR="1"))
    assert code == 0
    assert "checks 1/2 done" in output
    assert not any(code in output for code in ANSI_COLOUR)


def test_under_ci_a_terminal_gets_plain_lines(tmp_path):
    root = write_project(tmp_path, {"01_one.md": CHECKS})
    code, output = on_terminal(root, environment(CI="true", NO_COLOR="1"))
    assert code == 0
    assert "/2 done" not in output and "running" not in output
    assert "\x1b[" not in output  # no cursor movement at all
    lines = [line for line in output.splitlines() if line.strip()]
    assert [line.split()[0] for line in lines] == ["PASS", "PASS", "checks:"]


def test_a_pipe_gets_plain_lines(tmp_path):
    root = write_project(tmp_path, {"01_one.md": CHECKS})
    done = subprocess.run(
        [sys.executable, "-m", "runner", "check", "--no-cache"],
        capture_output=True,
        text=True,
        env=environment(),
        cwd=root,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0
    assert "\x1b[" not in done.stdout
    assert [line.split()[0] for line in done.stdout.splitlines()] == ["PASS", "PASS", "checks:"]


def test_help_does_not_import_rich_or_watchfiles():
    probe = (
        "import sys\nfrom runner.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('rich', 'watchfiles') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def spec(name: str) -> CheckSpec:
    return CheckSpec(name, "true", "01", Source(Path("workflows/demo/01_one.md"), 3))


def test_status_lines_follow_venv_builds_starts_and_ends():
    printed: list[str] = []
    progress = CheckProgress(Path(), 2, live=False, echo=printed.append)
    progress("[01] building the check venv (cpython-3.12.4)", None)
    assert progress.status_lines()[0].startswith("checks 0/2 done")
    assert "building  [01] building the check venv (cpython-3.12.4)" in progress.status_lines()[1]
    progress("[01] a running", None)
    progress("[01] b running", None)
    lines = progress.status_lines()
    assert len(lines) == 3  # the venv line is gone: venvs are built before checks run
    assert "running   [01] a  " in lines[1] and "running   [01] b  " in lines[2]
    progress("[01] a failed (0.1s)", CheckResult(spec("a"), "failed", 0.1, "", "exit code 1"))
    lines = progress.status_lines()
    assert lines[0].startswith("checks 1/2 done, 1 failed")
    assert len(lines) == 2 and "[01] b" in lines[1]
    assert printed and "FAIL" in printed[0] and "01 a" in printed[0]
