"""The stat index (runner/index.py): a no-op skips parsing, and still finds every drift.

Each drift test first proves the index is in use (a recorded index answers without
parsing), then changes the tree in a way stats alone could miss if only mtime and size
were compared, and expects ``wf verify`` to find exactly what it finds without an index.
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from runner import build, index, project
from runner.errors import WfError
from runner.project import load_set
from runner.stepcache import seal

from .helpers import (
    EXPECTED,
    block,
    doc_path,
    line_of,
    snapshot,
    standard_project,
    wf,
    write_project,
)

KEY = "01-project-setup/app/main.py"
PYPROJECT = "01-project-setup/pyproject.toml"


@pytest.fixture
def settled(monkeypatch):
    """Files the test wrote a moment ago count as settled, as if the run came later
    (real runs trust only stats older than ``RACY_NS``; see test_recent_files_...)."""
    monkeypatch.setattr(index, "RACY_NS", -3600 * 10**9)


@pytest.fixture
def recorded(tmp_path, settled):
    """A built project whose index was recorded by a full comparison that found nothing."""
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    assert wf(root, "verify").exit_code == 0  # the full comparison, which records
    assert index.index_file(load_set(root, "demo")).is_file()
    return root


def no_parsing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a document was parsed")

    monkeypatch.setattr(project, "_parse_cached", refuse)


def kinds(root):
    found = build.verify([load_set(root, "demo")]).differences["demo"]
    return sorted((d.kind, d.key) for d in found)


def rewrite_keeping_mtime(path, data):
    """Change a file's content in place and put its mtime (and atime) back."""
    before = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_unchanged_set_is_verified_and_built_without_parsing(recorded, monkeypatch):
    no_parsing(monkeypatch)
    assert kinds(recorded) == []
    result = wf(recorded, "build")
    assert result.exit_code == 0, result.output
    assert "demo: up to date" in result.output


def test_output_edited_with_mtime_restored_is_found(recorded):
    path = recorded / "sdlc" / "demo" / KEY
    assert path.read_bytes() == EXPECTED[KEY]
    rewrite_keeping_mtime(path, EXPECTED[KEY].replace(b"app = ", b"app=  "))  # same size
    assert path.stat().st_size == len(EXPECTED[KEY])
    assert kinds(recorded) == [("hand-edited", KEY)]
    result = wf(recorded, "verify")
    assert result.exit_code == 1 and KEY in result.output


def test_document_edited_with_mtime_restored_is_found(recorded):
    doc = doc_path(recorded, "01_project_setup.md")
    text = doc.read_bytes()
    rewrite_keeping_mtime(doc, text.replace(b"name: shop", b"name: shoq"))  # same size
    assert kinds(recorded) == [("manifest", "manifest.json"), ("stale", PYPROJECT)]


def test_output_replaced_by_a_file_of_the_same_size_and_mtime_is_found(recorded, tmp_path):
    path = recorded / "sdlc" / "demo" / KEY
    before = path.stat()
    other = tmp_path / "other.py"
    other.write_bytes(EXPECTED[KEY].upper())
    os.utime(other, ns=(before.st_atime_ns, before.st_mtime_ns))
    other.replace(path)
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert kinds(recorded) == [("hand-edited", KEY)]


def test_edited_manifest_is_found(recorded):
    manifest = recorded / "sdlc" / "demo" / "manifest.json"
    data = manifest.read_bytes()
    digest = index_of_digest(data)
    flipped = b"0" if data[digest : digest + 1] != b"0" else b"1"
    rewrite_keeping_mtime(manifest, data[:digest] + flipped + data[digest + 1 :])
    assert ("manifest", "manifest.json") in kinds(recorded)
    assert wf(recorded, "verify").exit_code == 1


def index_of_digest(manifest: bytes) -> int:
    return manifest.index(b'"sha256": "') + len(b'"sha256": "')


def test_added_output_file_is_found(recorded):
    (recorded / "sdlc" / "demo" / "01-project-setup" / "app" / "extra.py").write_text("x = 1\n")
    assert kinds(recorded) == [("untracked", "01-project-setup/app/extra.py")]


def test_deleted_output_and_new_document_are_found(recorded):
    (recorded / "sdlc" / "demo" / KEY).unlink()
    assert kinds(recorded) == [("missing", KEY)]
    doc_path(recorded, "04_more.md").write_text("```python path=more.py\nx = 1\n```\n")
    assert ("missing", "04-more/more.py") in kinds(recorded)


def test_empty_folder_left_in_outputs_is_still_removed_by_build(recorded):
    empty = recorded / "sdlc" / "demo" / "01-project-setup" / "left-over"
    empty.mkdir()
    assert wf(recorded, "build").exit_code == 0
    assert not empty.exists()


def test_index_this_machine_did_not_seal_is_ignored(recorded):
    """A planted index that describes a tampered tree exactly, sealed with another key."""
    wset = load_set(recorded, "demo")
    (recorded / "sdlc" / "demo" / KEY).write_bytes(b"tampered\n")
    data = {"format": index.FORMAT, "fingerprint": index.fingerprint(wset)}
    data["stats"] = index.tree_stats(wset)
    forged = seal(json.dumps(data, separators=(",", ":")).encode(), b"k" * 32, f"{wset.name}.json")
    index.index_file(wset).write_bytes(forged)
    assert kinds(recorded) == [("hand-edited", KEY)]


def test_damaged_index_means_a_full_comparison(recorded):
    wset = load_set(recorded, "demo")
    index.index_file(wset).write_bytes(b"\x00garbage")
    assert kinds(recorded) == []
    assert index.recall(load_set(recorded, "demo")) == []  # the full comparison re-recorded it


def test_recent_files_are_trusted_only_by_their_hash(tmp_path):
    """Without the ``settled`` fixture: files written less than RACY_NS ago (all of
    them, here) could change within one clock tick unseen. The index keeps the hash of
    each (the documents as parsed, the outputs as planned); one whose content the run
    does not know - ``wf.yaml``, read before the stats are taken - keeps no index."""
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    racy = index.look(load_set(root, "demo")).data["racy"]
    assert (
        racy["workflows/demo/01_project_setup.md"]
        == hashlib.sha256(doc_path(root, "01_project_setup.md").read_bytes()).hexdigest()
    )
    assert racy[f"sdlc/demo/{KEY}"] == hashlib.sha256(EXPECTED[KEY]).hexdigest()
    assert racy["workflows/demo/README.md"] == ""  # not read by the plan: no hash needed
    (root / "workflows" / "demo" / "wf.yaml").write_text("vars: {}\n")
    assert wf(root, "verify").exit_code == 0
    assert not index.index_file(load_set(root, "demo")).exists()


def test_drift_is_never_recorded(tmp_path, settled):
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    (root / "sdlc" / "demo" / KEY).write_text("changed\n")
    assert wf(root, "verify").exit_code == 1
    assert index.recall(load_set(root, "demo")) is None  # the build's index vouches no more
    assert wf(root, "verify").exit_code == 1


def test_plan_warnings_are_repeated_by_a_run_answered_from_the_index(
    tmp_path, settled, monkeypatch
):
    doc = (
        "# T\n\n"
        + block("{.python file=a.py}", "<<used>>\n")
        + block("{.python #used}", "x = 1\n")
        + block("{.python #spare}", "y = 2\n")
    )
    root = write_project(tmp_path, {"01_t.md": doc})
    warning = (
        f"warning: workflows/demo/01_t.md:{line_of(doc, '#spare')}: "
        "<<spare>> is defined but never used"
    )
    assert wf(root, "build").exit_code == 0
    assert warning in wf(root, "verify").stderr  # the full comparison, which records
    no_parsing(monkeypatch)
    result = wf(root, "verify")
    assert result.exit_code == 0
    assert warning in result.stderr


def test_a_set_with_derived_outputs_is_always_compared_in_full(tmp_path, settled):
    """A derivation's command may depend on the interpreter and tools it finds, which
    no stat of the set's files covers."""
    docs = {
        "01_data.md": "# Data\n\n" + block("text path=data.txt", "b\na\n"),
        "02_derived.md": "# Derived\n\n"
        + block("bash derive path=s.txt from=stdout", "sort data.txt"),
    }
    root = write_project(tmp_path / "proj", docs)
    assert wf(root, "build").exit_code == 0
    assert wf(root, "verify").exit_code == 0
    assert not index.index_file(load_set(root, "demo")).exists()


# --- one document changed: only its step is planned again (index.changed_steps) ------

DOCS = "03_docs.md"  # self-contained, and no other step touches its files


def parsed_only(monkeypatch, allowed: set[str]) -> list[str]:
    """Let only the documents named in ``allowed`` be parsed; return the names parsed."""
    seen: list[str] = []
    original = project._parse_cached

    def guarded(folder, step_file, policy):
        seen.append(step_file.path.name)
        if step_file.path.name not in allowed:
            raise AssertionError(f"{step_file.path.name} was parsed")
        return original(folder, step_file, policy)

    monkeypatch.setattr(project, "_parse_cached", guarded)
    return seen


def full_differences(root):
    """What the full comparison finds (planning every step), for comparison."""
    found = build.state(load_set(root, "demo")).differences
    return sorted((d.kind, d.key, d.disk, d.planned and d.planned.content, d.owners) for d in found)


def partial_differences(root, warnings=None):
    verification = build.verify([load_set(root, "demo")])
    if warnings is not None:
        warnings.extend(verification.warnings)
    found = verification.differences["demo"]
    return sorted((d.kind, d.key, d.disk, d.planned and d.planned.content, d.owners) for d in found)


def edit(root, name, old, new, keep_mtime=False):
    doc = doc_path(root, name)
    text = doc.read_text().replace(old, new)
    if keep_mtime:
        rewrite_keeping_mtime(doc, text.encode())
    else:
        doc.write_text(text)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("CREATE TABLE t (id int);", "CREATE TABLE u (id int);"),  # a file's content
        ("-- path: db/init.sql", "-- path: db/schema.sql"),  # a file renamed: one orphan
        ("# Docs\n", "# Docs\n\n```text path=notes/new.txt\nnew\n```\n"),  # a file added
    ],
)
def test_a_changed_self_contained_document_is_the_only_one_planned(
    recorded, monkeypatch, tmp_path, old, new
):
    edit(recorded, DOCS, old, new)
    seen = parsed_only(monkeypatch, {DOCS})
    partial = partial_differences(recorded)
    assert seen == [DOCS]
    assert partial and any(kind != "manifest" for kind, *_ in partial)
    monkeypatch.undo()
    assert partial == full_differences(recorded)
    # the build from the partial plan writes what a clean build of the same documents does
    parsed_only(monkeypatch, {DOCS})
    assert wf(recorded, "build").exit_code == 0
    monkeypatch.undo()
    fresh = tmp_path / "fresh"
    (fresh / "workflows").mkdir(parents=True)
    for doc in (recorded / "workflows" / "demo").iterdir():
        target = fresh / "workflows" / "demo" / doc.name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(doc.read_bytes())
    assert wf(fresh, "build").exit_code == 0
    assert snapshot(recorded / "sdlc") == snapshot(fresh / "sdlc")
    assert wf(recorded, "verify").exit_code == 0


def test_a_document_edited_with_its_mtime_restored_is_planned_again(recorded, monkeypatch):
    edit(recorded, DOCS, "id int", "id INT", keep_mtime=True)  # same size, same mtime
    seen = parsed_only(monkeypatch, {DOCS})
    assert ("stale", "03-docs/db/init.sql") in [
        (k, key) for k, key, *_ in partial_differences(recorded)
    ]
    assert seen == [DOCS]


@pytest.mark.parametrize(
    ("name", "old", "new", "why"),
    [
        ("01_project_setup.md", "fastapi\n", "fastapi>=0.1\n", "step 02 appends to its file"),
        (DOCS, "-- path: db/init.sql", "-- path: requirements.txt", "step 01 writes it too"),
        (DOCS, "-- path: db/init.sql", "-- path: app/main.py/x", "below another step's file"),
        (DOCS, "-- path: db/init.sql", "-- path: app", "a folder of another step"),
        (DOCS, "# Docs\n", "# Docs\n\n```{.python #extra}\nz = 1\n```\n", "a named block"),
        (DOCS, "console.log(1);", "<<helper>>", "a reference"),
    ],
)
def test_a_change_that_reaches_other_steps_is_compared_in_full(
    recorded, monkeypatch, name, old, new, why
):
    edit(recorded, name, old, new)
    seen = parsed_only(monkeypatch, {"01_project_setup.md", "02_routes.md", DOCS})
    try:
        partial = partial_differences(recorded)
    except WfError as exc:  # a plan error: the full comparison reports it the same way
        monkeypatch.undo()
        with pytest.raises(type(exc)):
            full_differences(recorded)
        return
    assert len(seen) == 3, why  # every step planned
    monkeypatch.undo()
    assert partial == full_differences(recorded), why


@pytest.mark.parametrize("also", ["output", "manifest", "wf.yaml"])
def test_a_changed_document_with_anything_else_changed_is_compared_in_full(
    recorded, monkeypatch, also
):
    edit(recorded, DOCS, "CREATE TABLE t", "CREATE TABLE v")
    if also == "output":
        rewrite_keeping_mtime(recorded / "sdlc/demo" / KEY, b"edited\n")
    elif also == "manifest":
        manifest = recorded / "sdlc/demo/manifest.json"
        data = manifest.read_bytes()
        at = index_of_digest(data)
        flipped = b"0" if data[at : at + 1] != b"0" else b"1"
        rewrite_keeping_mtime(manifest, data[:at] + flipped + data[at + 1 :])
    else:
        (recorded / "workflows/demo/wf.yaml").write_text("vars:\n  name: other\n")
    seen = parsed_only(monkeypatch, {"01_project_setup.md", "02_routes.md", DOCS})
    partial = partial_differences(recorded)
    assert len(seen) == 3
    monkeypatch.undo()
    assert partial == full_differences(recorded)
    kinds_found = {kind for kind, *_ in partial}
    assert {"output": "hand-edited", "manifest": "manifest", "wf.yaml": "stale"}[
        also
    ] in kinds_found


NAMED = {
    "01_named.md": "# Named\n\n"
    + block("{.python file=a.py}", "<<shared>>\n")
    + block("{.python #shared}", "x = 1\n"),
    "02_plain.md": "# Plain\n\n" + block("python path=b.py", "b = 1\n"),
}


@pytest.mark.parametrize(
    ("new", "why"),
    [
        (block("{.python #shared}", "y = 2\n"), "adds to a name step 01 uses: a.py again"),
        (block("python path=b.py", "<<shared>>\n"), "uses step 01's name"),
        (block("{.python #spare}", "z = 3\n") + block("python path=b.py", "b\n"), "a warning"),
        ("---\nrequires: [9]\n---\n" + block("python path=b.py", "b\n"), "requires a step"),
    ],
)
def test_a_document_that_stops_being_self_contained_is_compared_in_full(
    tmp_path, settled, monkeypatch, new, why
):
    root = write_project(tmp_path / "proj", NAMED)
    assert wf(root, "build").exit_code == 0
    assert wf(root, "verify").exit_code == 0  # records
    doc_path(root, "02_plain.md").write_text(new if new.startswith("---") else "# Plain\n\n" + new)
    seen = parsed_only(monkeypatch, {"01_named.md", "02_plain.md"})
    warnings: list[object] = []
    try:
        partial = partial_differences(root, warnings)
    except WfError as exc:
        monkeypatch.undo()
        with pytest.raises(type(exc)):
            full_differences(root)
        return
    assert sorted(seen) == ["01_named.md", "02_plain.md"], why
    monkeypatch.undo()
    assert partial == full_differences(root), why
    assert warnings == build.state(load_set(root, "demo")).plan.warnings, why


def test_a_spliced_manifest_is_the_rendered_one():
    """The one-document path keeps the manifest's other lines as they are
    (manifest.splice_manifest); the bytes are those render_manifest gives."""
    import random

    from runner.manifest import Entry, entries_below, render_manifest, splice_manifest

    rng = random.Random(17)

    def entry(step: str) -> Entry:
        sources = tuple(f'w/"{rng.randint(1, 9)}",\n.md:{rng.randint(1, 99)}' for _ in range(2))
        return Entry(step, f"{rng.getrandbits(256):064x}", sources, rng.choice([None, "in"]))

    for _ in range(200):
        steps = [f"{n:02d}-s{n}" for n in range(1, rng.randint(2, 6))]
        odd = ["é", '"', "\\", '": ', ",\n", ""]
        old = {
            f"{s}/f{rng.randint(0, 30)}{rng.choice(odd)}.py": entry(s)
            for s in steps
            for _ in range(4)
        }
        chosen = tuple(f"{s}/" for s in rng.sample(steps, rng.randint(0, len(steps))))
        new = {f"{s}new{rng.randint(0, 3)}.py": entry(s[:-1]) for s in chosen}
        merged = {k: e for k, e in old.items() if not k.startswith(chosen)} | new
        raw = render_manifest("demo", old)
        assert splice_manifest(raw, "demo", chosen, new) == render_manifest("demo", merged)
        below = entries_below(raw, "demo", chosen)
        assert below is not None
        assert below.entries == {k: e for k, e in old.items() if k.startswith(chosen)}
    assert splice_manifest(b'{"version": 1}', "demo", (), {}) is None


# --- the index a build records (its files are racy: verified by hash) -------------------


def recorded_stats(root):
    """The stats the index holds, as the next run would read them if nothing changed."""
    return index.look(load_set(root, "demo")).data["stats"]


def same_stats_as_recorded(monkeypatch, root):
    """From now on the trees' stats are what the index recorded: a change within the
    clock tick of the recorded stat, which stats alone cannot see."""
    frozen = recorded_stats(root)
    monkeypatch.setattr(index, "tree_stats", lambda wset: dict(frozen))


def test_a_build_records_the_index_so_the_next_run_parses_nothing(tmp_path, monkeypatch):
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    data = index.look(load_set(root, "demo")).data
    assert data is not None and f"sdlc/demo/{KEY}" in data["racy"]  # just written: racy
    no_parsing(monkeypatch)
    result = wf(root, "verify")
    assert result.exit_code == 0, result.output
    assert "demo: up to date" in wf(root, "build").output


def test_an_output_changed_within_the_racy_window_is_found_by_its_hash(tmp_path, monkeypatch):
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    same_stats_as_recorded(monkeypatch, root)
    (root / "sdlc" / "demo" / KEY).write_bytes(EXPECTED[KEY].replace(b"app = ", b"app=  "))
    assert kinds(root) == [("hand-edited", KEY)]


def test_a_document_changed_within_the_racy_window_is_found_by_its_hash(tmp_path, monkeypatch):
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    same_stats_as_recorded(monkeypatch, root)
    edit(root, "01_project_setup.md", "name: shop", "name: shoq")
    assert kinds(root) == [("manifest", "manifest.json"), ("stale", PYPROJECT)]


def test_racy_entries_settle_on_a_later_run(tmp_path, monkeypatch):
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    assert index.look(load_set(root, "demo")).data["racy"]
    monkeypatch.setattr(index, "RACY_NS", -3600 * 10**9)  # as if an hour had passed
    assert wf(root, "verify").exit_code == 0  # answered from the index, which settles
    assert index.look(load_set(root, "demo")).data["racy"] == {}


def test_a_second_edit_right_after_an_edit_build_is_planned_alone(recorded, monkeypatch):
    edit(recorded, DOCS, "id int", "id bigint")
    parsed_only(monkeypatch, {DOCS})
    assert wf(recorded, "build").exit_code == 0
    edit(recorded, DOCS, "id bigint", "id smallint")
    assert [kind for kind, *_ in partial_differences(recorded)] == ["manifest", "stale"]
    assert wf(recorded, "build").exit_code == 0
    assert wf(recorded, "verify").exit_code == 0
    monkeypatch.undo()
    assert full_differences(recorded) == []


def test_a_file_changed_while_the_build_ran_keeps_the_index_from_vouching(tmp_path, monkeypatch):
    root = standard_project(tmp_path / "proj")
    assert wf(root, "build").exit_code == 0
    edit(root, DOCS, "id int", "id bigint")  # something to write
    other = root / "sdlc" / "demo" / KEY  # an output this build does not write
    real_run = build.Transaction.run

    def run_and_meddle(self):
        real_run(self)
        other.write_bytes(other.read_bytes() + b"# meddled\n")

    monkeypatch.setattr(build.Transaction, "run", run_and_meddle)
    assert wf(root, "build").exit_code == 0
    monkeypatch.undo()
    assert index.recall(load_set(root, "demo")) is None  # its stats are not the recorded ones
    assert kinds(root) == [("hand-edited", KEY)]
