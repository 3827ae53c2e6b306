"""``wf watch`` driven as a user drives it: a real process watching a real folder,
documents saved, outputs and reports read, Ctrl-C at the end (README "wf watch")."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from core.helpers import block, snapshot, write_project

TIMEOUT = 60.0


class Watcher:
    """``wf watch`` in a subprocess; its output lines are collected as they come."""

    def __init__(self, root: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("CI", "WF_CACHE_KEY")}
        env["NO_COLOR"] = "1"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "runner",
                "--root",
                str(root),
                "watch",
                "--debounce",
                "100",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=root,  # errors name documents relative to where wf runs
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, pattern: str) -> list[str]:
        """Lines up to and including the first one matching ``pattern``."""
        deadline = time.monotonic() + TIMEOUT
        got: list[str] = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            got.append(line)
            self.seen.append(line)
            if re.search(pattern, line):
                return got
        raise AssertionError(
            f"no line matching {pattern!r}; output so far:\n" + "\n".join(self.seen)
        )

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        finally:
            self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def watchers():
    started: list[Watcher] = []
    yield lambda root, *args: started.append(Watcher(root, *args)) or started[-1]
    for watcher in started:
        watcher.stop()


def doc(content: str, *checks: str) -> str:
    return "# One\n\n" + block("text path=a.txt", content) + "".join("\n" + c for c in checks)


CHECK = block("bash check name=has-two", "grep -q two a.txt\n")
OUT = Path("sdlc/demo/01-one/a.txt")


def save(path: Path, text: str) -> None:
    path.write_text(text)


def test_edit_rebuilds_and_checks_a_broken_document_keeps_outputs_ctrl_c_exits_0(
    tmp_path, watchers
):
    root = write_project(tmp_path, {"01_one.md": doc("one\n", CHECK)})
    document = root / "workflows/demo/01_one.md"
    watcher = watchers(root)
    watcher.until(r"^watching workflows/")
    assert (root / OUT).read_text() == "one\n"  # built at the start

    save(document, doc("two\n", CHECK))
    lines = watcher.until(r"^checks: ")
    assert "changed: workflows/demo/01_one.md" in lines
    assert "  update  01-one/a.txt" in lines
    assert any(
        re.match(r"  PASS  01 has-two  \(\d+\.\ds\)  workflows/demo/01_one.md:7", x) for x in lines
    )
    assert lines[-1] == "checks: 1 passed, 0 failed, 0 skipped"
    assert (root / OUT).read_text() == "two\n"
    watcher.until(r"^watching ")

    before = snapshot(root / "sdlc")
    save(document, "---\ntitle: half-typed\n")  # front matter not closed yet
    lines = watcher.until(r"^outputs unchanged")
    assert "wf: workflows/demo/01_one.md:1: front matter opened with '---' is never closed" in lines
    assert snapshot(root / "sdlc") == before
    watcher.until(r"^watching ")

    save(document, doc("three\n", CHECK))
    lines = watcher.until(r"^checks: ")
    assert any(x.startswith("  FAIL  01 has-two") for x in lines)
    assert lines[-1] == "checks: 0 passed, 1 failed, 0 skipped"
    assert (root / OUT).read_text() == "three\n"
    watcher.until(r"^watching ")

    assert watcher.interrupt() == 0
    assert watcher.until(r"^wf watch: stopped")
    leftovers = [p for p in (root / "sdlc").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_no_checks_only_rebuilds(tmp_path, watchers):
    root = write_project(tmp_path, {"01_one.md": doc("one\n", CHECK)})
    watcher = watchers(root, "--no-checks")
    watcher.until(r"^watching ")
    save(root / "workflows/demo/01_one.md", doc("two\n", CHECK))
    lines = watcher.until(r"^done in ")
    assert "demo: 1 file(s) changed" in lines
    assert not any(x.startswith(("checks:", "  PASS", "  FAIL")) for x in lines)
    assert watcher.interrupt() == 0


def test_check_picks_checks_by_name_and_later_steps_rerun(tmp_path, watchers):
    marker = tmp_path / "ran.log"
    checks = [
        block(f"bash check name={name}", f"echo {name} >> {marker}\n")
        for name in ("lint-a", "lint-b", "tests")
    ]
    root = write_project(
        tmp_path / "project",
        {
            "01_one.md": doc("one\n", *checks),
            "02_two.md": "# Two\n\n"
            + block("bash check name=lint-later", f"echo later >> {marker}\n"),
        },
    )
    watcher = watchers(root, "--check", "lint-*", "--no-cache")
    watcher.until(r"^watching ")
    save(root / "workflows/demo/01_one.md", doc("two\n", *checks))
    lines = watcher.until(r"^checks: ")
    assert lines[-1] == "checks: 3 passed, 0 failed, 0 skipped"
    assert sorted(marker.read_text().split()) == ["later", "lint-a", "lint-b"]

    marker.unlink()
    save(
        root / "workflows/demo/02_two.md",
        "# Two, edited\n\n" + block("bash check name=lint-later", f"echo later >> {marker}\n"),
    )
    lines = watcher.until(r"^checks: ")
    assert lines[-1] == "checks: 1 passed, 0 failed, 0 skipped"  # step 01 is not affected
    assert marker.read_text().split() == ["later"]
    assert watcher.interrupt() == 0


def test_ctrl_c_while_a_check_runs_ends_it_and_exits_0(tmp_path, watchers):
    pid_file = tmp_path / "check.pid"
    slow = block("bash check name=slow", f"echo $$ > {pid_file}\nsleep 300\n")
    root = write_project(tmp_path / "project", {"01_one.md": doc("one\n", slow)})
    watcher = watchers(root)
    watcher.until(r"^watching ")
    save(root / "workflows/demo/01_one.md", doc("two\n", slow))
    watcher.until(r"^changed: ")
    deadline = time.monotonic() + TIMEOUT
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, "the check never started"
        time.sleep(0.1)
    check_pid = int(pid_file.read_text())
    assert watcher.interrupt() == 0
    deadline = time.monotonic() + 10
    while Path(f"/proc/{check_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (
        not Path(f"/proc/{check_pid}").exists()
        or "Z" in Path(f"/proc/{check_pid}/stat").read_text().split(")")[-1][:3]
    )
