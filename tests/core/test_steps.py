"""Step discovery, selection, requires, sets (DESIGN §2, issue: step selection forms)."""

from __future__ import annotations

import pytest

from runner.discover import find_sets, find_steps, select
from runner.errors import SelectionError
from runner.plan import check_requires, make_plan
from runner.project import load_set

from .helpers import block, write_project

NAMES = [
    "01_project_setup.md",
    "02_database.md",
    "03_crud_module.md",
    "04_auth_security.md",
    "10_websocket_realtime.md",
]


@pytest.fixture
def steps(tmp_path):
    folder = tmp_path / "workflows" / "demo"
    folder.mkdir(parents=True)
    # misnamed step-like files ("1_short.md", "05_Upper.md") are errors: test_hardening.py
    for name in [*NAMES, "README.md", "USAGE.md", "notes.md", "01_notes.txt"]:
        (folder / name).write_text("# x\n")
    (folder / "06_folder.md").mkdir()
    return find_steps(folder)


def test_discovery_numbers_ids_and_order(steps):
    assert [(s.number, s.slug, s.id) for s in steps] == [
        ("01", "project_setup", "project-setup"),
        ("02", "database", "database"),
        ("03", "crud_module", "crud-module"),
        ("04", "auth_security", "auth-security"),
        ("10", "websocket_realtime", "websocket-realtime"),
    ]


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        ((), ["01", "02", "03", "04", "10"]),
        (("4",), ["04"]),
        (("04",), ["04"]),
        (("004",), ["04"]),
        (("auth-security",), ["04"]),
        (("auth_security",), ["04"]),
        (("01-03",), ["01", "02", "03"]),
        (("1-3",), ["01", "02", "03"]),
        (("3-10",), ["03", "04", "10"]),
        (("1,3",), ["01", "03"]),
        (("3", "1"), ["01", "03"]),
        (("10,1-2",), ["01", "02", "10"]),
        (("database, 4",), ["02", "04"]),
        (("2", "2", "02"), ["02"]),
    ],
)
def test_selection_forms(steps, selectors, expected):
    assert [s.number for s in select(steps, selectors)] == expected


@pytest.mark.parametrize("selector", ["7", "nope", "11-20", "auth"])
def test_unknown_selector_lists_steps(steps, selector):
    with pytest.raises(SelectionError) as info:
        select(steps, [selector])
    message = info.value.message
    assert repr(selector) in message
    for number, ident in [("01", "project-setup"), ("04", "auth-security"), ("10", "websocket")]:
        assert number in message and ident in message


def test_reversed_range_is_an_error(steps):
    with pytest.raises(SelectionError, match="3 > 1"):
        select(steps, ["3-1"])


def test_duplicate_step_numbers(tmp_path):
    folder = tmp_path / "workflows" / "demo"
    folder.mkdir(parents=True)
    (folder / "02_alpha.md").write_text("# a\n")
    (folder / "02_beta.md").write_text("# b\n")
    with pytest.raises(SelectionError) as info:
        find_steps(folder)
    names = {info.value.file.name, "02_alpha.md" if "02_alpha.md" in info.value.message else ""}
    assert "step number 02 is used twice" in info.value.message
    assert names == {"02_alpha.md", "02_beta.md"}


def test_duplicate_step_numbers_written_differently(tmp_path):
    """``01_a.md`` and ``001_b.md`` are both step 1: selecting ``1`` would be ambiguous."""
    folder = tmp_path / "workflows" / "demo"
    folder.mkdir(parents=True)
    (folder / "01_alpha.md").write_text("# a\n")
    (folder / "001_beta.md").write_text("# b\n")
    with pytest.raises(SelectionError, match="used twice"):
        find_steps(folder)


def test_sets_are_folders_holding_steps(tmp_path):
    for name in ("beta", "alpha"):
        (tmp_path / "workflows" / name).mkdir(parents=True)
        (tmp_path / "workflows" / name / "01_x.md").write_text("# x\n")
    (tmp_path / "workflows" / "docs").mkdir()
    (tmp_path / "workflows" / "docs" / "README.md").write_text("# not a set\n")
    (tmp_path / "workflows" / "stray.md").write_text("# not a set\n")
    assert find_sets(tmp_path) == ["alpha", "beta"]


def _requires_project(tmp_path):
    return write_project(
        tmp_path,
        {
            "01_base.md": "# Base\n\n" + block("python path=a.py", "A = 1\n"),
            "02_feature.md": "---\nrequires: [1]\n---\n# F\n\n" + block("python path=b.py", "B\n"),
            "03_extra.md": '---\nrequires: ["02"]\n---\n# E\n',
        },
    )


def test_requires_satisfied(tmp_path):
    wset = load_set(_requires_project(tmp_path), "demo")
    check_requires(wset.steps())
    check_requires(wset.steps(wset.select(["1-2"])))


@pytest.mark.parametrize(("chosen", "missing"), [("2", "01"), ("1,3", "02"), ("3", "02")])
def test_requires_violated_by_a_subset(tmp_path, chosen, missing):
    wset = load_set(_requires_project(tmp_path), "demo")
    with pytest.raises(SelectionError) as info:
        make_plan("demo", wset.steps(wset.select([chosen])))
    assert f"requires step {missing}" in info.value.message
    assert info.value.file is not None and info.value.file.name.endswith(".md")
