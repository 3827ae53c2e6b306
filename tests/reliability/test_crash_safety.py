"""A build of 300 outputs SIGKILLed at a random moment: every file is fully old or fully
new, the manifest parses, and the next build repairs the tree exactly."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from core.helpers import snapshot, wf, write_project

from .conftest import LONG, count

TRIALS = 200 if LONG else 4
OUTPUTS = 300


def documents(version: int) -> dict[str, str]:
    """Version 1 and 2 differ in every file's content, and 2 drops and adds some files."""
    steps = {}
    for step in range(1, 4):
        blocks = []
        for index in range(OUTPUTS // 3):
            if version == 2 and index % 10 == 0:
                continue  # deleted in version 2 (its folder empties when it is alone)
            name = f"pkg{index % 7}/sub{index % 3}/f{index}.txt"
            blocks.append(
                f"```text path={name}\nv{version} s{step} {index}\n" + "x" * 200 + "\n```\n"
            )
        if version == 2:
            blocks.append(f"```text path=new/only{step}.txt\nnew\n```\n")
        steps[f"0{step}_s{step}.md"] = f"# Step {step}\n\n" + "\n".join(blocks)
    return steps


def expected(tmp_path: Path, version: int) -> dict[str, bytes]:
    root = write_project(tmp_path / f"expected{version}", documents(version))
    assert wf(root, "build").exit_code == 0
    return snapshot(root / "sdlc")


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    base = tmp_path_factory.mktemp("crash")
    return expected(base, 1), expected(base, 2)


@pytest.mark.timeout(7200 if LONG else 600)
def test_killed_builds_leave_old_or_new_files_and_repair(tmp_path, trees):
    rng = random.Random(0 if not LONG else None)
    root = write_project(tmp_path / "proj", documents(1))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [sys.executable, "-m", "runner", "--root", str(root), "build"]
    assert subprocess.run(command, env=env, capture_output=True).returncode == 0
    for trial in range(TRIALS):
        old, new = trees if trial % 2 == 0 else trees[::-1]  # 1 -> 2, then 2 -> 1, ...
        write_project(root, documents(2 if trial % 2 == 0 else 1))
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.05, 1.0))
        proc.send_signal(signal.SIGKILL)
        killed = proc.wait() == -signal.SIGKILL
        count("crash trials")
        count("SIGKILLs during a build", killed)
        state = snapshot(root / "sdlc")
        for key, data in state.items():
            if key == "demo/manifest.json":
                json.loads(data)  # parseable: the old one or the new one
                continue
            if ".wf-" in key:  # a temporary file of the killed run: the next build removes it
                count("temporary files left by a kill")
                continue
            assert data in (old.get(key), new.get(key)), f"torn file {key}"
        repaired = subprocess.run(command, env=env, capture_output=True)
        assert repaired.returncode == 0, repaired.stderr
        assert snapshot(root / "sdlc") == new
        assert not [p for p in (root / "sdlc").rglob("*") if p.is_dir() and not any(p.iterdir())]
        assert wf(root, "verify").exit_code == 0
        count("repairs to the exact tree")
