"""Builds and verifies at once on one tree serialise on the lock and end consistent; a
lock held by a killed run is free again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.helpers import block, wf, write_project

from .conftest import LONG, count

ROUNDS = 8 if LONG else 2
PROCESSES = 8


def _doc(version: int) -> dict[str, str]:
    blocks = "".join(block(f"text path=f{i}.txt", f"v{version} {i}\n") for i in range(60))
    return {"01_a.md": "# A\n\n" + blocks}


def test_parallel_builds_and_verifies_serialise(tmp_path):
    root = write_project(tmp_path / "proj", _doc(0))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for round_number in range(1, ROUNDS + 1):
        write_project(root, _doc(round_number))
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "runner",
                    "--root",
                    str(root),
                    "build" if i % 2 else "verify",
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for i in range(PROCESSES)
        ]
        codes = [p.wait() for p in procs]
        count("concurrent processes", len(procs))
        assert all(code in (0, 1) for code in codes), [p.stderr.read() for p in procs]
        assert all(codes[i] == 0 for i in range(1, PROCESSES, 2))  # every build succeeds
        assert wf(root, "verify").exit_code == 0
        count("concurrency rounds")


def test_lock_of_a_killed_run_is_recovered(tmp_path):
    root = write_project(tmp_path / "proj", _doc(0))
    assert wf(root, "build").exit_code == 0
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from runner.transaction import locked; from pathlib import Path\n"
            "with locked(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(300)",
            str(root / ".wf/demo.lock"),
        ],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        stdout=subprocess.PIPE,
    )
    assert holder.stdout.readline() == b"held\n"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    write_project(root, _doc(1))
    start = time.monotonic()
    assert wf(root, "build").exit_code == 0
    assert time.monotonic() - start < 30  # did not wait out the 60 s lock timeout
    assert wf(root, "verify").exit_code == 0
    count("stale locks recovered")
