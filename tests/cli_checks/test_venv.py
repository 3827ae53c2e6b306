"""The check venv is built from the *assembled* pyproject.toml with Python >= 3.12."""

from __future__ import annotations

from .util import block, check_block, run_json, step_doc, write_project

PYPROJECT = """\
[project]
name = "fixture"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = [{deps}]
"""


def test_venv_comes_from_the_assembled_pyproject(tmp_path):
    docs = {
        "01_setup.md": step_doc(
            "Setup",
            block("toml path=pyproject.toml", PYPROJECT.format(deps="")),
            check_block('python -c "import six"', name="no-six-yet", expect_exit=1),
        ),
        "02_six.md": step_doc(
            "Six",
            block("toml path=pyproject.toml", PYPROJECT.format(deps='"six"')),
            # PEP 695 syntax: compiles only with >= 3.12, whatever runs wf itself.
            block("python path=app.py", "type Number = int | float\nVALUE: Number = 42\n"),
            check_block(
                'python -c "import sys, six, app; assert sys.version_info >= (3, 12); '
                "print('six', six.__version__, 'app', app.VALUE)\"",
                name="has-six",
                expect_output=r"six 1\.\d+.* app 42",
            ),
        ),
    }
    root = write_project(tmp_path, docs)
    code, report = run_json(root, "check")
    by_name = {c["name"]: c for c in report["checks"]}
    assert by_name["no-six-yet"]["status"] == "passed", by_name["no-six-yet"]
    assert by_name["has-six"]["status"] == "passed", by_name["has-six"]
    # The built-in compile check of app.py ran with the project's interpreter (>= 3.12).
    assert all(c["status"] == "passed" for c in report["checks"]), report["checks"]
    assert len(report["checks"]) == 3
    assert code == 0
    assert report["ok"] is True
