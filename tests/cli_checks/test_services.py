"""Checks that ``needs`` PostgreSQL or Redis, through the CLI (README "Checks": Services)."""

from __future__ import annotations

import subprocess

import pytest

from .util import check_block, line_of, run_json, statuses, step_doc, wf, write_project

CREATE_TABLE = """\
psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -c "CREATE TABLE items (id int PRIMARY KEY)"
psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -c "INSERT INTO items VALUES (1)"
echo "db=$(psql "$DATABASE_URL" -tA -c 'SELECT current_database()')"
"""


@pytest.mark.services
def test_postgres_checks_each_get_a_fresh_database(tmp_path):
    doc = step_doc(
        "Db",
        check_block(CREATE_TABLE, name="pg-one", needs="postgres"),
        check_block(CREATE_TABLE, name="pg-two", needs="postgres"),
    )
    root = write_project(tmp_path, {"01_db.md": doc})
    code, report = run_json(root, "check", "-j", "2")
    assert statuses(report) == {"pg-one": "passed", "pg-two": "passed"}, report["checks"]
    assert code == 0
    databases = set()
    for check in report["checks"]:
        [line] = [x for x in check["output"].splitlines() if x.startswith("db=")]
        databases.add(line.removeprefix("db="))
    assert len(databases) == 2, f"both checks used the same database: {databases}"
    # ... and each database is dropped after its check.
    listed = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tA",
            "-c",
            "SELECT datname FROM pg_database",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    assert "postgres" in listed
    assert not databases & set(listed)


@pytest.mark.services
def test_redis_check_gets_redis_url(tmp_path):
    doc = step_doc(
        "Cache",
        check_block(
            'test -n "$REDIS_URL"\n'
            'redis-cli -u "$REDIS_URL" SET wf-test-key hello >/dev/null\n'
            'redis-cli -u "$REDIS_URL" GET wf-test-key',
            name="redis-roundtrip",
            needs="redis",
            expect_output="^hello$",
        ),
    )
    root = write_project(tmp_path, {"01_cache.md": doc})
    code, report = run_json(root, "check")
    assert statuses(report) == {"redis-roundtrip": "passed"}, report["checks"]
    assert code == 0


UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"


@pytest.fixture
def unreachable_pg(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    doc = step_doc(
        "Db",
        check_block(f"touch {marker}", name="needs-db", needs="postgres"),
        check_block("true", name="plain"),
    )
    root = write_project(tmp_path, {"01_db.md": doc})
    monkeypatch.setenv("WF_POSTGRES_URL", UNREACHABLE)
    return root, doc, marker


def test_unreachable_postgres_is_skipped_with_a_reason(unreachable_pg):
    root, doc, marker = unreachable_pg
    result = wf(root, "check", "--no-strict")
    assert result.exit_code == 0, result.output
    assert not marker.exists()  # a skipped check does not run
    assert f"workflows/demo/01_db.md:{line_of(doc, 'name=needs-db')}" in result.stdout
    assert "skipped" in result.stdout.lower()
    assert "WF_POSTGRES_URL" in result.stdout  # actionable: names what to fix
    assert "1 skipped" in result.stdout

    code, report = run_json(root, "check", "--no-strict")
    assert code == 0
    check = {c["name"]: c for c in report["checks"]}["needs-db"]
    assert check["status"] == "skipped"
    assert "WF_POSTGRES_URL" in check["reason"]
    assert "127.0.0.1:1" in check["reason"]


def test_skipped_check_fails_under_strict(unreachable_pg):
    root, _, _ = unreachable_pg
    result = wf(root, "check", "--strict")
    assert result.exit_code == 3
    assert "WF_POSTGRES_URL" in result.stdout


def test_strict_is_the_default_in_ci(unreachable_pg, monkeypatch):
    root, _, _ = unreachable_pg
    assert wf(root, "check").exit_code == 0  # CI unset: not strict
    monkeypatch.setenv("CI", "true")
    assert wf(root, "check").exit_code == 3
    assert wf(root, "check", "--no-strict").exit_code == 0  # explicit flag wins
