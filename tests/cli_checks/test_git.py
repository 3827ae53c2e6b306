"""Git through the CLI: ``--since REF``, ``build --commit``, ``verify --committed``
(README "Checks": Git; DESIGN §6)."""

from __future__ import annotations

import json
import re

import pytest

from .util import block, check_block, git, init_repo, run_json, step_doc, wf, write_project


def since_docs() -> dict[str, str]:
    return {
        "01_base.md": step_doc(
            "Base", block("text path=shared.txt", "base\n"), check_block("true", name="c01")
        ),
        "02_extend.md": step_doc(  # appends to 01's file
            "Extend",
            block("text path=shared.txt mode=append", "extended\n"),
            check_block("true", name="c02"),
        ),
        "03_other.md": step_doc(  # independent of 01 and 02
            "Other", block("text path=other.txt", "other\n"), check_block("true", name="c03")
        ),
        "04_needs.md": step_doc(  # requires 01, own files only
            "Needs",
            block("text path=four.txt", "four\n"),
            check_block("true", name="c04"),
            front='requires: ["01"]\n',
        ),
        "05_patch.md": step_doc(  # patches 03's file
            "Patch",
            block(
                "diff path=other.txt mode=patch",
                "--- a/other.txt\n+++ b/other.txt\n@@ -1 +1 @@\n-other\n+patched\n",
            ),
            check_block("grep -qx patched other.txt", name="c05"),
        ),
        "06_later.md": step_doc(  # unrelated, after everything
            "Later", block("text path=six.txt", "six\n"), check_block("true", name="c06")
        ),
    }


@pytest.fixture
def repo(tmp_path):
    root = write_project(
        tmp_path / "proj",
        since_docs(),
        wf_yaml="vars:\n  name: demo\n",
        extra={"README.md": "# The demo set\n"},
    )
    init_repo(root)
    return root


def edit(root, name, old, new):
    doc = root / "workflows" / "demo" / name
    text = doc.read_text()
    assert old in text
    doc.write_text(text.replace(old, new))


def names_since(root, ref, *extra):
    code, report = run_json(root, "check", "--since", ref, *extra)
    assert code == 0, report
    return {c["name"] for c in report["checks"]}


def test_since_nothing_changed_runs_nothing(repo):
    assert names_since(repo, "HEAD") == set()


def test_since_includes_every_later_step(repo):
    # A later step's checks run on a project holding the changed step's files.
    edit(repo, "01_base.md", "base\n", "base v2\n")  # unstaged change
    assert names_since(repo, "HEAD") == {"c01", "c02", "c03", "c04", "c05", "c06"}


def test_since_leaves_earlier_steps_out(repo):
    edit(repo, "03_other.md", "# Other\n", "# Other\n\nMore prose.\n")
    assert names_since(repo, "HEAD") == {"c03", "c04", "c05", "c06"}


def test_since_catches_a_later_check_reading_a_changed_file(tmp_path):
    docs = {
        "01_lib.md": step_doc("Lib", block("text path=lib.txt", "v1\n")),
        "02_use.md": step_doc("Use", check_block("grep -qx v1 lib.txt", name="uses lib")),
    }
    root = write_project(tmp_path / "proj", docs)
    init_repo(root)
    edit(root, "01_lib.md", "v1\n", "v2\n")
    code, report = run_json(root, "check", "--since", "HEAD")
    assert code == 3
    failed = {c["name"] for c in report["checks"] if c["status"] == "failed"}
    assert failed == {"uses lib"}


def test_since_unrelated_later_step_alone(repo):
    edit(repo, "06_later.md", "six\n", "six v2\n")
    assert names_since(repo, "HEAD") == {"c06"}


def test_since_ignores_non_step_documents(repo):
    (repo / "workflows" / "demo" / "README.md").write_text("# The demo set, reworded\n")
    assert names_since(repo, "HEAD") == set()


def test_since_set_config_change_affects_every_step(repo):
    (repo / "workflows" / "demo" / "wf.yaml").write_text("vars:\n  name: other\n")
    assert names_since(repo, "HEAD") == {"c01", "c02", "c03", "c04", "c05", "c06"}


def test_since_sees_committed_changes(repo):
    edit(repo, "02_extend.md", "extended\n", "extended v2\n")
    git(repo, "commit", "-q", "-am", "change step 02")
    assert names_since(repo, "HEAD") == set()
    assert names_since(repo, "HEAD~1") == {"c02", "c03", "c04", "c05", "c06"}


def test_since_untracked_new_step_counts_as_changed(repo):
    new = step_doc("New", block("text path=seven.txt", "7\n"), check_block("true", name="c07"))
    (repo / "workflows" / "demo" / "07_new.md").write_text(new)
    assert names_since(repo, "HEAD") == {"c07"}


def test_since_with_verify_checks(repo):
    edit(repo, "06_later.md", "six\n", "six v2\n")
    assert wf(repo, "build").exit_code == 0
    code, report = run_json(repo, "verify", "--checks", "--since", "HEAD")
    assert code == 0, report
    assert {c["name"] for c in report["checks"]} == {"c06"}


def test_since_bad_ref_is_a_usage_error(repo):
    result = wf(repo, "check", "--since", "no-such-ref-xyz")
    assert result.exit_code == 2
    assert "no-such-ref-xyz" in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wf: "), result.stderr
    assert "Traceback" not in result.output


def test_since_outside_a_git_repository_is_a_usage_error(tmp_path):
    root = write_project(tmp_path / "nogit", since_docs())
    result = wf(root, "check", "--since", "HEAD")
    assert result.exit_code == 2
    assert "git" in result.stderr
    assert "Traceback" not in result.output


# --- wf build --commit -----------------------------------------------------------------


def head(root):
    return git(root, "rev-parse", "HEAD").strip()


def test_build_commit_commits_the_regenerated_tree(repo):
    before = head(repo)
    result = wf(repo, "build", "--commit")
    assert result.exit_code == 0, result.output
    after = head(repo)
    assert after != before
    assert git(repo, "rev-parse", "HEAD~1").strip() == before
    files = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert "sdlc/demo/01-base/shared.txt" in files
    assert "sdlc/demo/06-later/six.txt" in files
    assert all(f.startswith("sdlc/demo/") for f in files), files
    message = git(repo, "log", "-1", "--format=%B")
    assert "demo" in message
    for number in ("01", "02", "03", "04", "05", "06"):
        assert re.search(rf"\b{number}\b", message), message
    assert git(repo, "status", "--porcelain", "--", "sdlc") == ""

    # Nothing changed: no commit.
    again = wf(repo, "build", "--commit")
    assert again.exit_code == 0
    assert "nothing to commit" in again.stdout
    assert head(repo) == after


def test_build_commit_names_only_the_changed_steps_and_leaves_documents_alone(repo):
    assert wf(repo, "build", "--commit").exit_code == 0
    first = head(repo)
    edit(repo, "06_later.md", "six\n", "six v2\n")
    result = wf(repo, "build", "--commit")
    assert result.exit_code == 0, result.output
    assert head(repo) != first
    files = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert "sdlc/demo/06-later/six.txt" in files
    assert all(f.startswith("sdlc/demo/") for f in files), files
    message = git(repo, "log", "-1", "--format=%B")
    assert re.search(r"\b06\b", message), message
    assert not re.search(r"\b0[1-5]\b", message), message
    # The edited document is the user's to commit.
    assert "workflows/demo/06_later.md" in git(repo, "status", "--porcelain")


# --- wf verify --committed -------------------------------------------------------------


def test_verify_committed(repo):
    assert wf(repo, "build").exit_code == 0
    assert wf(repo, "verify").exit_code == 0  # sdlc/ matches the documents ...
    untracked = wf(repo, "verify", "--committed")
    assert untracked.exit_code == 1  # ... but is not committed
    assert "sdlc/demo/01-base/shared.txt" in untracked.stdout

    git(repo, "add", "sdlc")
    git(repo, "commit", "-q", "-m", "generated")
    clean = wf(repo, "verify", "--committed")
    assert clean.exit_code == 0, clean.output

    edit(repo, "06_later.md", "six\n", "six v2\n")
    assert wf(repo, "build").exit_code == 0
    assert wf(repo, "verify").exit_code == 0
    modified = wf(repo, "verify", "--committed")
    assert modified.exit_code == 1
    assert "sdlc/demo/06-later/six.txt" in modified.stdout
    assert "sdlc/demo/01-base/shared.txt" not in modified.stdout

    git(repo, "commit", "-q", "-am", "regenerated")
    assert wf(repo, "verify", "--committed").exit_code == 0


def test_build_commit_leaves_other_staged_changes_out(repo):
    notes = repo / "notes.txt"
    notes.write_text("the user's work in progress\n")
    git(repo, "add", "notes.txt")
    assert wf(repo, "build", "--commit").exit_code == 0
    files = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert "notes.txt" not in files
    assert "sdlc/demo/01-base/shared.txt" in files
    assert git(repo, "status", "--porcelain", "--", "notes.txt") == "A  notes.txt\n"  # still staged


def test_build_commit_in_a_repository_without_commits(tmp_path):
    root = write_project(tmp_path / "fresh", since_docs())
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test@example.com")
    result = wf(root, "build", "--commit")
    assert result.exit_code == 0, result.output
    files = git(root, "show", "--name-only", "--format=", "HEAD").split()
    assert "sdlc/demo/manifest.json" in files
    assert all(f.startswith("sdlc/demo/") for f in files), files
    assert git(root, "log", "--format=%an <%ae>").strip() == "Test User <test@example.com>"


def test_build_commit_after_a_plain_build_commits_the_tree(repo):
    assert wf(repo, "build").exit_code == 0
    before = head(repo)
    result = wf(repo, "build", "--commit")
    assert result.exit_code == 0
    assert "nothing to commit" not in result.stdout
    assert head(repo) != before
    assert wf(repo, "verify", "--committed").exit_code == 0


def test_verify_committed_json_is_machine_readable(repo):
    assert wf(repo, "build").exit_code == 0
    result = wf(repo, "verify", "--committed", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert "sdlc/demo/01-base/shared.txt" in json.dumps(report)


def test_verify_committed_github_annotates_uncommitted_files(repo):
    assert wf(repo, "build").exit_code == 0
    result = wf(repo, "verify", "--committed", "--format", "github")
    assert result.exit_code == 1
    errors = [x for x in result.stdout.splitlines() if x.startswith("::error")]
    assert any("sdlc/demo/01-base/shared.txt" in x for x in errors), result.stdout


# --- a project in a subfolder of the repository ----------------------------------------


@pytest.fixture
def nested(tmp_path):
    """The repository is tmp_path/mono; the wf project is its subfolder mono/proj."""
    top = tmp_path / "mono"
    root = write_project(top / "proj", since_docs())
    init_repo(top)
    return top, root


def test_nested_project_since(nested):
    _, root = nested
    assert names_since(root, "HEAD") == set()
    edit(root, "03_other.md", "other\n", "other v2\n")
    edit(root, "05_patch.md", "-other\n", "-other v2\n")
    assert names_since(root, "HEAD") == {"c03", "c04", "c05", "c06"}
    new = step_doc("New", block("text path=seven.txt", "7\n"), check_block("true", name="c07"))
    (root / "workflows" / "demo" / "07_new.md").write_text(new)
    assert names_since(root, "HEAD") == {"c03", "c04", "c05", "c06", "c07"}


def test_nested_project_commit_and_verify_committed(nested):
    top, root = nested
    assert wf(root, "build").exit_code == 0
    result = wf(root, "verify", "--committed")
    assert result.exit_code == 1
    assert "sdlc/demo/01-base/shared.txt" in result.stdout

    edit(root, "06_later.md", "six\n", "six v2\n")
    before = head(top)
    result = wf(root, "build", "--commit")
    assert result.exit_code == 0, result.output
    assert head(top) != before
    files = git(top, "show", "--name-only", "--format=", "HEAD").split()
    assert "proj/sdlc/demo/06-later/six.txt" in files
    assert all(f.startswith("proj/sdlc/demo/") for f in files), files
    assert wf(root, "verify", "--committed").exit_code == 0
