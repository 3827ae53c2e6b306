"""``wf check --shard K/N`` and ``--list-shards N``: a CI matrix splits the checks into
disjoint, covering, stable shards balanced by recorded durations; the result cache is
relocatable (README "CI at scale")."""

from __future__ import annotations

import json
import random
import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from cli_checks.util import block, check_block, run_json, step_doc, wf, write_project

from runner.checks import check_id, recorded_durations
from runner.checks._cache import ResultCache
from runner.checks._interpreter import Interpreter
from runner.checks._venv import VenvSpec
from runner.checks.shard import Shard, split
from runner.model import CheckSpec, Source

# -- the split itself -------------------------------------------------------------------


def random_checks(seed: int) -> tuple[list[str], dict[str, float]]:
    rng = random.Random(seed)
    ids = [
        f"demo/{rng.randrange(1, 30):02d}_doc.md::check {i}" for i in range(rng.randrange(1, 60))
    ]
    durations = {i: rng.choice([0.1, 1.0, 5.0, 60.0]) * rng.random() for i in ids}
    return ids, durations


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_shards_are_disjoint_cover_everything_and_balance_within_the_longest_check(seed, count):
    ids, durations = random_checks(seed)
    result = split(ids, durations, count)
    members = [set(shard) for shard in result.shards]
    assert len(members) == count
    assert set().union(*members) == set(ids)
    assert sum(len(m) for m in members) == len(set(ids))  # disjoint
    loads = [sum(durations[i] for i in m) for m in members]
    # Greedy placement onto the lightest shard: no shard is more than one check heavier.
    assert max(loads) - min(loads) <= max(durations.values()) + 1e-9


def test_split_follows_durations_not_counts():
    ids = ["demo/01_a.md::long"] + [f"demo/02_b.md::short {i}" for i in range(6)]
    durations = {"demo/01_a.md::long": 60.0} | {f"demo/02_b.md::short {i}": 10.0 for i in range(6)}
    result = split(ids, durations, 2)
    assert sorted(len(s) for s in result.shards) == [1, 6]
    assert result.load(1) == result.load(2) == 60.0
    assert result.measured


def test_without_durations_counts_are_balanced():
    ids = [f"demo/01_a.md::c{i}" for i in range(10)]
    result = split(ids, {}, 3)
    assert sorted(len(s) for s in result.shards) == [3, 3, 4]
    assert not result.measured


def test_a_check_without_a_recorded_duration_weighs_the_mean():
    result = split(["s/a.md::x", "s/a.md::y", "s/a.md::new"], {"s/a.md::x": 1, "s/a.md::y": 3}, 2)
    assert result.weights["s/a.md::new"] == 2.0


def test_split_is_stable_whatever_the_order_and_repetition():
    ids, durations = random_checks(7)
    first = split(ids, durations, 4)
    again = split(list(reversed(ids)) + ids[:3], dict(reversed(list(durations.items()))), 4)
    assert again.shards == first.shards
    assert again.fingerprint == first.fingerprint
    assert split(ids, {**durations, ids[0]: 999.0}, 4).fingerprint != first.fingerprint


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "a/b", "2", "-1/2"])
def test_bad_shard_is_refused(text):
    with pytest.raises(ValueError, match=r"K/N|between 1 and N"):
        Shard.parse(text)


# -- through the CLI --------------------------------------------------------------------


def sharded_project(tmp_path: Path, marker: Path) -> Path:
    docs = {}
    for number in range(1, 6):
        checks = [
            check_block(f"echo {number}-{i} >> {marker}", name=f"c{number}-{i}") for i in range(2)
        ]
        docs[f"0{number}_step.md"] = step_doc(
            f"Step {number}", block(f"text path=f{number}.txt", f"{number}\n"), *checks
        )
    return write_project(tmp_path / "project", docs)


def names(report: dict) -> list[str]:
    return [c["name"] for c in report["checks"]]


def test_shards_run_disjoint_covering_parts_each_with_a_complete_report(tmp_path):
    marker = tmp_path / "ran.log"
    root = sharded_project(tmp_path, marker)
    code, everything = run_json(root, "check", "--no-cache")
    assert code == 0
    marker.unlink()
    seen: list[str] = []
    fingerprints = set()
    for index in (1, 2, 3):
        junit = tmp_path / f"junit-{index}.xml"
        code, report = run_json(
            root, "check", "--shard", f"{index}/3", "--no-cache", "--junit", str(junit)
        )
        assert code == 0 and report["ok"] is True
        assert report["shard"]["index"] == index and report["shard"]["count"] == 3
        assert report["shard"]["checks"] == len(report["checks"]) > 0
        assert report["shard"]["of"] == len(everything["checks"])
        fingerprints.add(report["shard"]["fingerprint"])
        suites = ET.parse(junit).getroot()
        cases = [case.get("name") for case in suites.iter("testcase")]
        assert sorted(cases) == sorted(names(report))
        assert suites.get("tests") == str(len(cases))
        seen += names(report)
    assert sorted(seen) == sorted(names(everything))  # covering, and no check twice
    assert len(fingerprints) == 1
    ran = marker.read_text().split()
    assert len(ran) == len(set(ran)) == 10  # every declared check ran exactly once


def test_list_shards_matches_what_the_shards_run_and_is_stable(tmp_path):
    root = sharded_project(tmp_path, tmp_path / "ran.log")
    listed = json.loads(wf(root, "check", "--list-shards", "2", "--format", "json").stdout)
    again = json.loads(wf(root, "check", "--list-shards", "2", "--format", "json").stdout)
    assert listed == again
    assert listed["measured"] is False  # nothing ran yet: counts
    for shard in listed["shards"]:
        _code, report = run_json(root, "check", "--shard", f"{shard['index']}/2")
        assert sorted(names(report)) == sorted(c["name"] for c in shard["checks"])
        assert report["shard"]["fingerprint"] == listed["fingerprint"]
    text = wf(root, "check", "--list-shards", "2")
    assert text.exit_code == 0
    assert "shard 1/2:" in text.stdout and "shard 2/2:" in text.stdout
    assert "workflows/demo/01_step.md:" in text.stdout


def test_runs_record_durations_and_list_shards_balances_by_them(tmp_path):
    docs = {
        "01_slow.md": step_doc("Slow", check_block("sleep 0.6", name="slow")),
        "02_quick.md": step_doc(
            "Quick", *(check_block("true", name=f"quick{i}") for i in range(3))
        ),
    }
    root = write_project(tmp_path / "project", docs)
    assert wf(root, "check").exit_code == 0
    recorded = recorded_durations(root / ".wf")
    assert recorded["demo/01_slow.md::slow"] >= 0.6
    assert set(recorded) >= {f"demo/02_quick.md::quick{i}" for i in range(3)}
    listed = json.loads(wf(root, "check", "--list-shards", "2", "--format", "json").stdout)
    assert listed["measured"] is True
    by_shard = [sorted(c["name"] for c in s["checks"]) for s in listed["shards"]]
    assert ["slow"] in by_shard  # the slow check alone; the quick ones together
    assert ["quick0", "quick1", "quick2"] in by_shard


def test_verify_checks_takes_a_shard_and_shard_needs_checks(tmp_path):
    root = sharded_project(tmp_path, tmp_path / "ran.log")
    assert wf(root, "build").exit_code == 0
    code, report = run_json(root, "verify", "--checks", "--shard", "2/4")
    assert code == 0
    assert report["shard"]["checks"] == len(report["checks"])
    assert report["drift"] == []
    refused = wf(root, "verify", "--shard", "1/2")
    assert refused.exit_code == 2
    assert "--checks" in refused.stderr
    bad = wf(root, "check", "--shard", "3/2")
    assert bad.exit_code == 2
    assert "between 1 and N" in bad.stderr


# -- a relocatable result cache ---------------------------------------------------------

PYPROJECT = '[project]\nname = "fixture"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'


def test_a_cache_copied_to_another_folder_still_hits(tmp_path):
    marker = tmp_path / "ran.log"
    docs = {
        "01_setup.md": step_doc(
            "Setup",
            block("toml path=pyproject.toml", PYPROJECT),
            block("python path=app.py", "VALUE = 1\n"),
            check_block(f'echo ran >> {marker} && python -c "import app"', name="imports"),
        )
    }
    first_home = write_project(tmp_path / "here", docs)
    code, first = run_json(first_home, "check")
    assert code == 0 and not any(c["cached"] for c in first["checks"])
    assert marker.read_text() == "ran\n"

    moved = tmp_path / "elsewhere" / "deeper"
    shutil.copytree(first_home, moved)
    shutil.rmtree(first_home)  # nothing may still point at the old folder
    code, second = run_json(moved, "check")
    assert code == 0
    assert [c["cached"] for c in second["checks"]] == [True] * len(first["checks"])
    assert marker.read_text() == "ran\n"  # not run again
    for key_file in (moved / ".wf" / "results").iterdir():
        assert str(first_home) not in key_file.read_text()


def test_result_keys_do_not_depend_on_where_the_interpreter_lives():
    here = Interpreter("/usr/bin/python3.12", (3, 12, 4), "cpython")
    there = replace(here, path="/opt/hostedtoolcache/Python/3.12.4/x64/bin/python")
    newer = replace(here, version=(3, 13, 0))
    spec = VenvSpec(PYPROJECT.encode(), here, "/usr/bin/uv", "uv 0.5.0")
    moved = replace(spec, interpreter=there, uv="/home/ci/.local/bin/uv")
    assert spec.portable_key == moved.portable_key
    assert spec.key != moved.key  # the venv on disk is tied to its interpreter
    assert replace(spec, interpreter=newer).portable_key != spec.portable_key


def test_check_ids_hold_no_absolute_path():
    spec = CheckSpec(
        "tests", "pytest", "03", Source(Path("/home/me/repo/workflows/be/03_db.md"), 7)
    )
    assert check_id(spec) == "be/03_db.md::tests"


def test_damaged_durations_fall_back_to_counts(tmp_path):
    cache = ResultCache(tmp_path)
    cache.record_durations({"s/a.md::x": 1.5})
    assert cache.durations() == {"s/a.md::x": 1.5}
    cache.durations_file.write_text("{not json")
    assert cache.durations() == {}


def test_results_hit_with_the_same_python_at_another_path(tmp_path, monkeypatch):
    """Another machine's interpreter lives elsewhere: a new venv, but the results hold."""
    import os

    from runner.checks._interpreter import InterpreterNotFound, find_interpreter
    from runner.checks._venv import find_uv

    try:
        real = os.path.realpath(find_interpreter(None, os.environ, find_uv(os.environ)).path)
    except InterpreterNotFound as exc:
        pytest.skip(f"needs Python >= 3.12: {exc}")
    links = []
    for name in ("machine-a", "machine-b"):
        (tmp_path / name).mkdir()
        links.append(tmp_path / name / "python3.12")
        links[-1].symlink_to(real)
    marker = tmp_path / "ran.log"
    docs = {
        "01_setup.md": step_doc(
            "Setup",
            block("toml path=pyproject.toml", PYPROJECT),
            check_block(f"echo ran >> {marker}", name="once"),
        )
    }
    root = write_project(tmp_path / "project", docs)
    code, _ = run_json(root, "check", "--python", str(links[0]))
    assert code == 0 and marker.read_text() == "ran\n"
    code, second = run_json(root, "check", "--python", str(links[1]))
    assert code == 0
    assert all(c["cached"] for c in second["checks"]), second["checks"]
    assert marker.read_text() == "ran\n"  # the interpreter's path is not in the key


def test_a_cache_restored_on_another_machine_hits_when_they_share_wf_cache_key(
    tmp_path, monkeypatch
):
    """Results are sealed with the user's key; CI machines share one through WF_CACHE_KEY."""
    from runner import stepcache

    marker = tmp_path / "ran.log"
    docs = {"01_setup.md": step_doc("Setup", check_block(f"echo ran >> {marker}", name="once"))}
    root = write_project(tmp_path / "runner-a" / "project", docs)

    def on_machine(name: str, project: Path, shared: str | None) -> list[bool]:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / name / "home-cache"))
        if shared is None:
            monkeypatch.delenv("WF_CACHE_KEY", raising=False)
        else:
            monkeypatch.setenv("WF_CACHE_KEY", shared)
        stepcache.machine_key.cache_clear()
        try:
            code, report = run_json(project, "check")
        finally:
            stepcache.machine_key.cache_clear()
        assert code == 0
        return [c["cached"] for c in report["checks"]]

    assert on_machine("runner-a", root, "ci-secret") == [False]
    for name in ("runner-b", "runner-c"):
        shutil.copytree(root / ".wf", tmp_path / name / "project" / ".wf")
        write_project(tmp_path / name / "project", docs)
    assert on_machine("runner-b", tmp_path / "runner-b" / "project", "ci-secret") == [True]
    assert marker.read_text() == "ran\n"
    # Without the shared key a restored cache is foreign, hence untrusted: the check runs.
    assert on_machine("runner-c", tmp_path / "runner-c" / "project", None) == [False]
    assert marker.read_text() == "ran\nran\n"


@pytest.mark.parametrize("text", ["1/1001", "1/99999999999999999999"])
def test_a_shard_count_past_any_ci_matrix_is_refused_not_allocated(text):
    with pytest.raises(ValueError, match=r"N must be at most 1000"):
        Shard.parse(text)


@pytest.mark.parametrize("count", ["1001", "99999999999999999999"])
def test_list_shards_refuses_a_count_past_any_ci_matrix(tmp_path, count):
    root = write_project(tmp_path, {"01_a.md": "# A\n"})
    result = wf(root, "check", "--list-shards", count)
    assert result.exit_code == 2
    assert "N must be at most 1000" in result.stderr
