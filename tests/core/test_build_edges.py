"""Edge cases of build, export and apply found in review: shapes changing between
builds, all-or-nothing across sets, damaged caches and manifests, odd targets."""

from __future__ import annotations

from runner import project
from runner.transaction import temp_path, write_atomic

from .helpers import block, snapshot, standard_project, wf, write_project


def _one_step(root, body: str):
    return write_project(root, {"01_a.md": "# A\n\n" + body})


def test_a_file_can_become_a_folder_between_builds(tmp_path):
    root = _one_step(tmp_path, block("ini path=config", "x=1\n"))
    assert wf(root, "build").exit_code == 0
    _one_step(tmp_path, block("ini path=config/app.ini", "x=2\n"))
    result = wf(root, "build")
    assert result.exit_code == 0, result.output
    assert (root / "sdlc/demo/01-a/config/app.ini").read_text() == "x=2\n"
    assert wf(root, "verify").exit_code == 0


def test_a_folder_can_become_a_file_between_builds(tmp_path):
    root = _one_step(tmp_path, block("ini path=config/app.ini", "x=2\n"))
    assert wf(root, "build").exit_code == 0
    _one_step(tmp_path, block("ini path=config", "x=1\n"))
    result = wf(root, "build")
    assert result.exit_code == 0, result.output
    assert (root / "sdlc/demo/01-a/config").read_text() == "x=1\n"


def test_a_folder_holding_someone_elses_file_blocks_the_build(tmp_path):
    root = _one_step(tmp_path, block("ini path=config/app.ini", "x=2\n"))
    assert wf(root, "build").exit_code == 0
    (root / "sdlc/demo/01-a/config/mine.txt").write_text("mine\n")
    _one_step(tmp_path, block("ini path=config", "x=1\n"))
    before = snapshot(root / "sdlc")
    result = wf(root, "build", "--force")
    assert result.exit_code == 1
    assert "config/mine.txt" in result.stderr
    assert snapshot(root / "sdlc") == before


def test_several_sets_are_all_or_nothing(tmp_path):
    root = write_project(tmp_path, {"01_a.md": block("text path=a.txt", "a\n")}, set_name="good")
    write_project(root, {"01_b.md": block("text path=../b.txt", "b\n")}, set_name="bad")
    result = wf(root, "build")
    assert result.exit_code == 2
    assert "bad/01_b.md:1" in result.stderr
    assert not (root / "sdlc").exists()


def test_damaged_parse_cache_is_a_cache_miss(tmp_path, monkeypatch):
    monkeypatch.setattr(project, "CACHE_PARSES_FROM", 0.0)  # cache even these small ones
    root = standard_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    cached = list((root / ".wf" / "parse").glob("*.json"))
    assert len(cached) == 3
    for path in cached:
        path.write_bytes(b"\x80\x09garbage")
    result = wf(root, "verify")
    assert result.exit_code == 0, result.output


def test_cache_folder_ignores_itself(tmp_path):
    root = standard_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    assert (root / ".wf" / ".gitignore").read_text() == "*\n"


def test_damaged_manifest_is_reported_and_force_repairs_it(tmp_path):
    root = standard_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    manifest = root / "sdlc/demo/manifest.json"
    manifest.write_text('{"files": []}')
    result = wf(root, "verify")
    assert result.exit_code == 2
    assert "manifest" in result.stderr and "Traceback" not in result.output
    assert wf(root, "build").exit_code == 2
    assert wf(root, "build", "--force").exit_code == 0
    assert wf(root, "verify").exit_code == 0


def test_run_takes_exactly_one_step(tmp_path):
    root = standard_project(tmp_path)
    result = wf(root, "run", "01-02", "--no-checks")
    assert result.exit_code == 2
    assert "one step" in result.stderr
    assert not (root / "sdlc").exists()


def test_build_commit_outside_git_writes_nothing(tmp_path):
    root = standard_project(tmp_path)
    result = wf(root, "build", "--commit")
    assert result.exit_code == 2
    assert "git" in result.stderr
    assert not (root / "sdlc").exists()


def test_junit_into_a_missing_folder_fails_before_checks_run(tmp_path):
    marker = tmp_path / "ran"
    root = _one_step(tmp_path, block("bash check name=touch", f"touch {marker}\n"))
    result = wf(root, "check", "--junit", str(tmp_path / "no" / "such" / "x.xml"))
    assert result.exit_code == 2
    assert "--junit" in result.stderr
    assert not marker.exists()


def test_export_below_a_file_is_an_input_error(tmp_path):
    root = standard_project(tmp_path / "proj")
    (tmp_path / "afile").write_text("x\n")
    result = wf(root, "export", str(tmp_path / "afile" / "sub"))
    assert result.exit_code == 2
    assert "is a file" in result.stderr
    assert "Traceback" not in result.output


def _append_step(root):
    return write_project(root, {"01_a.md": block("text path=notes.txt mode=append", "more\n")})


def test_apply_keeps_crlf_line_endings(tmp_path):
    root = _append_step(tmp_path / "proj")
    target = tmp_path / "target"
    target.mkdir()
    (target / "notes.txt").write_bytes(b"first\r\nsecond\r\n")
    assert wf(root, "apply", "01", "--to", str(target)).exit_code == 0
    assert (target / "notes.txt").read_bytes() == b"first\r\nsecond\r\nmore\r\n"
    again = wf(root, "apply", "01", "--to", str(target))
    assert again.exit_code == 0 and "0 file(s) changed" in again.output


def test_apply_refuses_to_build_on_a_file_that_is_not_utf8(tmp_path):
    root = _append_step(tmp_path / "proj")
    target = tmp_path / "target"
    target.mkdir()
    (target / "notes.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    result = wf(root, "apply", "01", "--to", str(target))
    assert result.exit_code == 1
    assert "UTF-8" in result.stderr
    assert (target / "notes.txt").read_bytes() == "caf\xe9\n".encode("latin-1")


def test_atomic_write_never_follows_a_planted_temporary_link(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    target = tmp_path / "out" / "file.txt"
    target.parent.mkdir()
    temp_path(target).symlink_to(outside)
    write_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert outside.read_text() == "precious\n"


def test_a_selector_naming_nothing_is_an_input_error(tmp_path):
    root = standard_project(tmp_path)
    for selector in (",", "", " , "):
        result = wf(root, "build", selector)
        assert result.exit_code == 2, selector
        assert "names no step" in result.stderr
    assert not (root / "sdlc").exists()


def test_a_range_must_start_and_end_at_existing_steps(tmp_path):
    root = standard_project(tmp_path)
    result = wf(root, "export", str(tmp_path / "out"), "--steps", "01-07")
    assert result.exit_code == 2
    assert "no step 07" in result.stderr
    assert not (tmp_path / "out").exists()
