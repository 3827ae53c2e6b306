"""Derived outputs that need a service get it like a check does (README "Derived outputs")."""

from __future__ import annotations

import pytest

from .util import block, line_of, step_doc, wf, write_project


def database_doc() -> str:
    command = "psql -v ON_ERROR_STOP=1 \"$DATABASE_URL\" -Atc 'select 40 + 2'"
    return step_doc("Db", block("bash derive path=answer.txt from=stdout needs=postgres", command))


@pytest.mark.services
def test_a_derivation_gets_the_database_it_needs(tmp_path):
    root = write_project(tmp_path, {"01_db.md": database_doc()})
    result = wf(root, "build")
    assert result.exit_code == 0, result.output
    assert (root / "sdlc" / "demo" / "01-db" / "answer.txt").read_text() == "42\n"


def test_without_the_service_it_is_an_error_at_its_line(tmp_path, monkeypatch):
    doc = database_doc()
    root = write_project(tmp_path, {"01_db.md": doc})
    monkeypatch.setenv("WF_POSTGRES_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = wf(root, "build")
    assert result.exit_code == 2
    line = line_of(doc, "bash derive")
    assert f"workflows/demo/01_db.md:{line}: cannot derive answer.txt" in result.stderr
    assert "unavailable" in result.stderr and "WF_POSTGRES_URL" in result.stderr
    assert not (root / "sdlc").exists()
