"""Untrusted checkouts: nothing in a repository's .wf/ runs, and links never lead writes out."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import time
from pathlib import Path

import pytest

from runner import parse, project, stepcache

from .helpers import snapshot, standard_project, wf


@pytest.fixture(autouse=True)
def own_key(tmp_path, monkeypatch):
    """A cache key of this test's own (not the developer's ~/.cache/wf)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    stepcache.machine_key.cache_clear()
    yield
    stepcache.machine_key.cache_clear()


@pytest.fixture(autouse=True)
def cache_every_parse(monkeypatch):
    """These documents parse in well under a millisecond: cache them all anyway, since
    these tests are about what a cache file can do."""
    monkeypatch.setattr(project, "CACHE_PARSES_FROM", 0.0)


def test_only_slow_parses_are_cached(tmp_path, monkeypatch):
    monkeypatch.undo()  # the default threshold, and this test's own key again
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    assert not (root / ".wf" / "parse").exists() or _cache_files(root) == []

    real_parse = project.parse_step

    def slow_parse(*args, **kwargs):
        deadline = time.thread_time() + project.CACHE_PARSES_FROM
        while time.thread_time() < deadline:  # CPU time, as a slow parse spends it
            pass
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(project, "parse_step", slow_parse)
    shutil.rmtree(root / "sdlc")  # a full build again (the index cannot vouch)
    assert wf(root, "build").exit_code == 0
    assert len(_cache_files(root)) == 3


class _Payload:
    """Unpickling this writes a marker file: proof that a cache file ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pwned"))


def _cache_files(root: Path) -> list[Path]:
    return sorted((root / ".wf" / "parse").iterdir())


def test_parse_cache_is_used_on_the_second_run(tmp_path, monkeypatch):
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    assert len(_cache_files(root)) == 3

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed although the cache holds the step")

    monkeypatch.setattr("runner.project.parse_step", no_parsing)
    result = wf(root, "verify")
    assert result.exit_code == 0, result.output


def test_planted_pickle_never_runs(tmp_path):
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    marker = tmp_path / "marker"
    payload = pickle.dumps(_Payload(marker))
    for path in _cache_files(root):  # every name a cache file ever had, and the current one
        for name in (path.name, path.with_suffix(".pickle").name):
            (path.parent / name).write_bytes(payload)
    for command in (("verify",), ("list",), ("build",)):
        result = wf(root, *command)
        assert result.exit_code == 0, (command, result.output)
    assert not marker.exists()


def test_forged_cache_entry_is_ignored(tmp_path):
    """A well-formed entry that claims other content, sealed with another key: a miss."""
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    before = snapshot(root / "sdlc")
    for path in _cache_files(root):
        _mac, _, payload = path.read_bytes().partition(b"\n")
        data = json.loads(payload)
        for block_data in data["blocks"]:
            block_data["content"] = "FORGED\n"
        forged = json.dumps(data).encode()
        path.write_bytes(stepcache.seal(forged, b"k" * 32, path.name))  # someone else's key
    assert wf(root, "verify").exit_code == 0
    assert wf(root, "build").exit_code == 0
    assert snapshot(root / "sdlc") == before
    assert b"FORGED" not in b"".join(before.values())


def test_a_sealed_entry_moved_to_another_name_is_a_miss(tmp_path):
    """Our own seal, replayed: step 01's parse under every other step's cache name."""
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    before = snapshot(root / "sdlc")
    entries = {path: path.read_bytes() for path in _cache_files(root)}
    donor = next(data for data in entries.values() if b'"number": "01"' in data)
    for path, data in entries.items():
        if data != donor:
            path.write_bytes(donor)
    assert wf(root, "verify").exit_code == 0
    assert wf(root, "build").exit_code == 0
    assert snapshot(root / "sdlc") == before


def test_a_passing_result_copied_to_another_checks_key_is_a_miss(tmp_path):
    from runner.checks import ResultCache

    cache = ResultCache(tmp_path / ".wf")
    passed, failing = "a" * 64, "b" * 64
    cache.store(passed, "ok", 1.0)
    (cache.root / failing).write_bytes((cache.root / passed).read_bytes())
    assert cache.load(passed) is not None
    assert cache.load(failing) is None


def test_cache_file_that_is_a_fifo_or_a_link_is_a_miss(tmp_path):
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    outside = tmp_path / "outside.json"
    paths = _cache_files(root)
    for path in paths[:2]:
        path.unlink()
    os.mkfifo(paths[0])  # reading it would block forever
    paths[1].symlink_to(outside)
    result = wf(root, "verify")
    assert result.exit_code == 0, result.output
    assert not outside.exists()


def test_cache_round_trip_keeps_every_field(tmp_path):
    root = standard_project(tmp_path / "proj")
    for path in sorted((root / "workflows/demo").glob("0*.md")):
        number, slug = path.stem.split("_", 1)
        step = parse.parse_step(parse.StepFile(number, slug, path))
        payload = stepcache.encode_step(step)
        assert payload is not None
        assert stepcache.decode_step(payload) == step


def test_only_the_free_form_fields_need_the_round_trip_check():
    """encode_step checks only FREE_FIELDS by a JSON round trip; every other field of the
    model must have a type the decoder rebuilds exactly (no Any below Step)."""
    import typing
    from dataclasses import fields

    from runner import model

    def has_any(hint: object) -> bool:
        return hint is typing.Any or any(has_any(arg) for arg in typing.get_args(hint))

    free = set()
    for cls in (model.Step, model.Block, model.Fragment, model.CheckSpec, model.Derivation):
        hints = typing.get_type_hints(cls)
        free |= {f"{cls.__name__}.{f.name}" for f in fields(cls) if has_any(hints[f.name])}
    assert free == {f"Step.{name}" for name in stepcache.FREE_FIELDS}


def test_values_json_cannot_carry_are_not_cached(tmp_path):
    root = standard_project(tmp_path / "proj")
    doc = root / "workflows/demo/01_project_setup.md"
    doc.write_text(doc.read_text().replace("name: shop", "name: shop\n  when: 2024-01-01"))
    assert wf(root, "build").exit_code == 0
    assert len(_cache_files(root)) == 2  # step 01 (a date in vars) is parsed every time
    assert wf(root, "verify").exit_code == 0


# --- links that would move wf's own writes out of the project -----------------------


@pytest.mark.parametrize("link", ["sdlc", "sdlc/demo"])
@pytest.mark.parametrize("force", [False, True])
def test_output_folder_linked_outside_is_refused(tmp_path, link, force):
    root = standard_project(tmp_path / "proj")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / link).parent.mkdir(parents=True, exist_ok=True)
    (root / link).symlink_to(outside, target_is_directory=True)
    result = wf(root, "build", *(["--force"] if force else []))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "outside the project" in result.stderr
    assert list(outside.iterdir()) == []


def test_output_folder_linked_inside_the_project_is_fine(tmp_path):
    root = standard_project(tmp_path / "proj")
    (root / "generated").mkdir()
    (root / "sdlc").symlink_to(root / "generated", target_is_directory=True)
    assert wf(root, "build").exit_code == 0
    assert (root / "generated/demo/manifest.json").is_file()


def test_cache_folder_linked_outside_is_refused_for_writes(tmp_path):
    root = standard_project(tmp_path / "proj")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / ".wf").symlink_to(outside, target_is_directory=True)
    result = wf(root, "build", "--force")
    assert result.exit_code == 2
    assert "outside the project" in result.stderr
    assert wf(root, "verify").exit_code == 1  # reads work, uncached: nothing built yet
    assert list(outside.iterdir()) == []
    assert not (root / "sdlc").exists()


@pytest.mark.parametrize("inner", ["parse", ".gitignore", "demo.lock"])
def test_link_inside_the_cache_folder_leading_out_is_not_followed(tmp_path, inner):
    root = standard_project(tmp_path / "proj")
    outside = tmp_path / "outside"
    (root / ".wf").mkdir()
    (root / ".wf" / inner).symlink_to(outside)  # dangling: a write would create it
    wf(root, "build")
    wf(root, "verify")
    assert not outside.exists()
