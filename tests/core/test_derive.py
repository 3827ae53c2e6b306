"""Derived outputs (README "Derived outputs"): files a step makes by running a command in
the project assembled so far, recorded with the hash of their inputs."""

from __future__ import annotations

import json

from .helpers import block, line_of, md, snapshot, wf, write_project

OUT = ("sdlc", "demo")


def counting(command: str, runs) -> str:
    """``command``, first noting in the file ``runs`` (outside the workspace) that it ran."""
    return f"echo ran >> {runs}\n{command}"


def count(runs) -> int:
    return len(runs.read_text().splitlines()) if runs.exists() else 0


def project(tmp_path, derive_info: str, command: str, data: str = "b\na\nc\n", extra: str = ""):
    """Step 01 writes data.txt, step 02 derives a file from it with ``command``."""
    docs = {
        "01_data.md": "# Data\n\n" + block("text path=data.txt", data),
        "02_derived.md": md(
            """
            # Derived

            The sorted list is made by running sort on the project:

            """
        )
        + block(f"bash derive {derive_info}", command)
        + extra,
    }
    return write_project(tmp_path / "proj", docs), docs


def manifest(root):
    return json.loads((root.joinpath(*OUT) / "manifest.json").read_text())["files"]


def test_a_derivation_from_stdout_is_written_into_the_step_folder(tmp_path):
    root, docs = project(tmp_path, "path=sorted.txt from=stdout", "sort data.txt")
    result = wf(root, "build")
    assert result.exit_code == 0, result.output
    step = root.joinpath(*OUT, "02-derived")
    assert (step / "sorted.txt").read_text() == "a\nb\nc\n"
    entry = manifest(root)["02-derived/sorted.txt"]
    line = line_of(docs["02_derived.md"], "bash derive")
    assert entry["sources"] == [f"workflows/demo/02_derived.md:{line}"]
    assert len(entry["inputs"]) == 64 and entry["inputs"] != entry["sha256"]
    assert "inputs" not in manifest(root)["01-data/data.txt"]  # plain outputs are unchanged
    assert wf(root, "verify").exit_code == 0


def test_a_derivation_from_a_file_the_command_writes(tmp_path):
    command = "mkdir -p gen\nsort -r data.txt > gen/list.txt\necho noise"
    root, _ = project(tmp_path, "path=reversed.txt from=gen/list.txt", command)
    assert wf(root, "build").exit_code == 0
    step = snapshot(root.joinpath(*OUT, "02-derived"))
    assert step == {"reversed.txt": b"c\nb\na\n"}  # gen/ itself is not an output


def test_without_from_the_command_writes_the_target_itself(tmp_path):
    root, _ = project(tmp_path, "path=lock.txt", "sort data.txt | tr a-z A-Z > lock.txt")
    assert wf(root, "build").exit_code == 0
    assert root.joinpath(*OUT, "02-derived", "lock.txt").read_text() == "A\nB\nC\n"


def test_a_later_step_and_its_checks_see_the_derived_file(tmp_path):
    root, docs = project(tmp_path, "path=sorted.txt from=stdout", "sort data.txt")
    docs["03_use.md"] = (
        "# Use\n\n"
        + block("bash derive path=first.txt from=stdout", "head -n1 sorted.txt")
        + "\n"
        + block("bash check name=sees-it", "grep -qx a sorted.txt && grep -qx a first.txt")
    )
    write_project(root, docs)
    assert wf(root, "build").exit_code == 0
    assert root.joinpath(*OUT, "03-use", "first.txt").read_text() == "a\n"
    result = wf(root, "check", "03")
    assert result.exit_code == 0, result.output
    assert "1 passed" in result.stdout


def test_it_reruns_only_when_its_inputs_change(tmp_path):
    runs = tmp_path / "runs"
    root, _ = project(tmp_path, "path=sorted.txt from=stdout", counting("sort data.txt", runs))
    assert wf(root, "build").exit_code == 0
    assert count(runs) == 1
    for args in (("build",), ("verify",), ("list",), ("build", "02")):
        assert wf(root, *args).exit_code == 0
    assert count(runs) == 1  # nothing it depends on changed
    doc = root / "workflows" / "demo" / "02_derived.md"
    doc.write_text(doc.read_text().replace("The sorted list", "The list, sorted,"))
    assert wf(root, "build").exit_code == 0
    assert count(runs) == 1  # prose is no input
    data = root / "workflows" / "demo" / "01_data.md"
    data.write_text(data.read_text().replace("c\n", "0\n"))
    assert wf(root, "build").exit_code == 0
    assert count(runs) == 2
    assert root.joinpath(*OUT, "02-derived", "sorted.txt").read_text() == "0\na\nb\n"


def test_changed_inputs_make_verify_report_it_stale_without_running_it(tmp_path):
    runs = tmp_path / "runs"
    root, _ = project(tmp_path, "path=sorted.txt from=stdout", counting("sort data.txt", runs))
    assert wf(root, "build").exit_code == 0
    doc = root / "workflows" / "demo" / "02_derived.md"
    doc.write_text(doc.read_text().replace("sort data.txt", "sort -r data.txt"))
    result = wf(root, "verify", "--format", "json")
    assert result.exit_code == 1
    drift = json.loads(result.stdout)["drift"]
    line = line_of(doc.read_text(), "bash derive")
    assert [(d["kind"], d["path"]) for d in drift] == [("stale", "sdlc/demo/02-derived/sorted.txt")]
    assert drift[0]["owners"] == [f"workflows/demo/02_derived.md:{line}"]
    assert drift[0]["fix"] == "wf build --set demo"
    assert count(runs) == 1  # verify reported it; it did not rerun it
    text = wf(root, "verify").stdout
    assert "stale" in text and "fix: wf build --set demo" in text
    assert wf(root, "build").exit_code == 0
    assert root.joinpath(*OUT, "02-derived", "sorted.txt").read_text() == "c\nb\na\n"
    assert wf(root, "verify").exit_code == 0


def test_a_failing_command_is_an_error_at_its_line_and_nothing_is_written(tmp_path):
    command = "echo first-line\necho 'lock failed: no such package' >&2\nexit 3"
    root, docs = project(tmp_path, "path=sorted.txt from=stdout", command)
    result = wf(root, "build")
    assert result.exit_code == 2
    line = line_of(docs["02_derived.md"], "bash derive")
    assert f"workflows/demo/02_derived.md:{line}: cannot derive sorted.txt" in result.stderr
    assert "exit code 3" in result.stderr
    assert "\n    | lock failed: no such package\n" in result.stderr  # the tail, as lines
    assert "Traceback" not in result.stderr
    assert not (root / "sdlc").exists()


def test_a_command_that_does_not_write_its_file_is_an_error(tmp_path):
    root, _ = project(tmp_path, "path=lock.txt", "sort data.txt > elsewhere.txt")
    result = wf(root, "build")
    assert result.exit_code == 2
    assert "did not write lock.txt" in result.stderr
    assert not (root / "sdlc").exists()


def test_a_timeout_is_an_error(tmp_path):
    root, _ = project(tmp_path, "path=x.txt from=stdout timeout=0.5", "sleep 30")
    result = wf(root, "build")
    assert result.exit_code == 2
    assert "timed out after 0.5s" in result.stderr


def test_verify_checks_rederives_and_catches_non_determinism(tmp_path):
    root, _ = project(tmp_path, "path=stamp.txt from=stdout", "date +%s%N")
    assert wf(root, "build").exit_code == 0
    assert wf(root, "verify").exit_code == 0  # inputs unchanged: trusted without a rerun
    result = wf(root, "verify", "--checks", "--format", "json")
    assert result.exit_code == 1
    drift = json.loads(result.stdout)["drift"]
    assert [(d["kind"], d["path"]) for d in drift] == [
        ("not-reproducible", "sdlc/demo/02-derived/stamp.txt")
    ]
    assert "same bytes" in drift[0]["fix"]


def test_verify_checks_passes_a_deterministic_derivation(tmp_path):
    runs = tmp_path / "runs"
    root, _ = project(tmp_path, "path=sorted.txt from=stdout", counting("sort data.txt", runs))
    assert wf(root, "build").exit_code == 0
    result = wf(root, "verify", "--checks")
    assert result.exit_code == 0, result.output
    assert count(runs) == 2  # it really ran again


def test_a_hand_edited_derived_file_is_refused_like_any_other(tmp_path):
    root, _ = project(tmp_path, "path=sorted.txt from=stdout", "sort data.txt")
    assert wf(root, "build").exit_code == 0
    target = root.joinpath(*OUT, "02-derived", "sorted.txt")
    target.write_text("edited\n")
    result = wf(root, "verify", "--format", "json")
    assert result.exit_code == 1
    drift = json.loads(result.stdout)["drift"]
    assert [d["kind"] for d in drift] == ["hand-edited"]
    assert "+a\n" in drift[0]["diff"]
    assert wf(root, "build").exit_code == 1
    assert target.read_text() == "edited\n"
    assert wf(root, "build", "--force").exit_code == 0
    assert target.read_text() == "a\nb\nc\n"


def test_the_steps_own_earlier_output_is_present_when_it_reruns(tmp_path):
    # like `uv lock`: entries already in the file are kept when the inputs change
    command = "{ if [ -f pins.txt ]; then cat pins.txt; fi; cat data.txt; } | sort -u > new\n"
    command += "mv new pins.txt"
    root, _ = project(tmp_path, "path=pins.txt", command, data="a\nb\n")
    assert wf(root, "build").exit_code == 0
    pins = root.joinpath(*OUT, "02-derived", "pins.txt")
    assert pins.read_text() == "a\nb\n"
    data = root / "workflows" / "demo" / "01_data.md"
    data.write_text(data.read_text().replace("a\nb\n", "b\nc\n"))
    assert wf(root, "build").exit_code == 0
    assert pins.read_text() == "a\nb\nc\n"  # "a" kept from the earlier output
    assert wf(root, "verify", "--checks").exit_code == 0  # and that is reproducible


def test_export_uses_the_recorded_bytes_and_derives_for_other_trees(tmp_path):
    runs = tmp_path / "runs"
    docs = {
        "01_data.md": "---\nvars: {word: shop}\n---\n# Data\n\n"
        + block("text path=data.txt template", "{{ word }}\n"),
        "02_derived.md": "# Derived\n\n"
        + block("bash derive path=upper.txt from=stdout", counting("tr a-z A-Z < data.txt", runs)),
    }
    root = write_project(tmp_path / "proj", docs)
    assert wf(root, "build").exit_code == 0
    assert count(runs) == 1
    plain = tmp_path / "plain"
    assert wf(root, "export", str(plain)).exit_code == 0
    assert snapshot(plain) == {"data.txt": b"shop\n", "upper.txt": b"SHOP\n"}
    assert count(runs) == 1  # the tree is the one sdlc/ was built from
    other = tmp_path / "other"
    assert wf(root, "export", str(other), "--var", "word=store").exit_code == 0
    assert snapshot(other) == {"data.txt": b"store\n", "upper.txt": b"STORE\n"}
    assert count(runs) == 2


def test_apply_derives_in_the_project_it_is_applied_to(tmp_path):
    docs = {
        "01_data.md": "# Data\n\n" + block("text path=data.txt", "b\na\n"),
        "02_derived.md": "---\nrequires: [1]\n---\n# Derived\n\n"
        + block("text path=more.txt", "z\n")
        + "\n"
        + block("bash derive path=all.txt from=stdout", "cat data.txt more.txt | sort"),
    }
    root = write_project(tmp_path / "proj", docs)
    target = tmp_path / "mine"
    target.mkdir()
    (target / "data.txt").write_text("mine\nb\n")  # the user's project, not the documents'
    (target / "all.txt").write_text("old\n")
    result = wf(root, "apply", "02", "--to", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "all.txt").read_text() == "b\nmine\nz\n"
    assert (target / "more.txt").read_text() == "z\n"
    again = wf(root, "apply", "02", "--to", str(target))
    assert again.exit_code == 0 and "0 file(s) changed" in again.stdout


def test_derive_block_errors_name_the_line(tmp_path):
    cases = {
        "bash derive from=stdout": "names the file it produces with path=",
        "bash derive path=x.txt mode=append": "'mode' is not valid on a derive block",
        "bash derive path=x.txt name=n": "'name' is not valid on a derive block",
        "bash derive check path=x.txt": "a check block cannot have path=",
        "bash derive path=x.txt template": "'template' is not valid on a derive block",
        "bash derive path=x.txt needs=mysql": "unknown service 'mysql'",
        "text path=x.txt from=stdout": "'from' is only valid on a derive block",
        "bash derive path=../x.txt": "escapes the output folder",
        "bash derive path=x.txt from=/etc/passwd": "is absolute",
    }
    for info, message in cases.items():
        doc = "# Step\n\nSome prose.\n\n" + block(info, "echo hi")
        root = write_project(tmp_path / info.replace(" ", "_").replace("/", "_"), {"01_s.md": doc})
        result = wf(root, "build")
        assert result.exit_code == 2, info
        assert "workflows/demo/01_s.md:5: " in result.stderr, (info, result.stderr)
        assert message in result.stderr, (info, result.stderr)


def test_a_path_both_written_and_derived_in_one_step_is_an_error(tmp_path):
    doc = (
        "# Step\n\n"
        + block("text path=x.txt", "by hand\n")
        + "\n"
        + block("bash derive path=x.txt from=stdout", "echo derived")
    )
    root = write_project(tmp_path, {"01_s.md": doc})
    result = wf(root, "build")
    assert result.exit_code == 2
    line = line_of(doc, "bash derive")
    assert f"01_s.md:{line}: x.txt is derived here and also made at line 3" in result.stderr


def test_show_lists_derived_outputs(tmp_path):
    root, docs = project(tmp_path, "path=sorted.txt from=stdout needs=postgres", "sort data.txt")
    result = wf(root, "show", "02")
    line = line_of(docs["02_derived.md"], "bash derive")
    shown = "sorted.txt  [derived from stdout of: sort data.txt; needs postgres]"
    assert f"line {line:>5}  {shown}" in result.stdout


def rederive_project(tmp_path, later: str = "text path=data/c.txt", content: str = "c\n"):
    """02 derives a listing of data/ with ``rederive=later``; 03 adds to data/, 04 does not."""
    docs = {
        "01_data.md": "# Data\n\n" + block("text path=data/b.txt", "b\na\n"),
        "02_listing.md": "---\noptional: true\n---\n# Listing\n\n"
        + block("bash derive path=listing.txt from=stdout rederive=later", "cat data/* | sort"),
        "03_more.md": "# More\n\n" + block(later, content),
        "04_other.md": "# Other\n\n" + block("text path=notes.txt", "not data\n"),
    }
    return write_project(tmp_path / "proj", docs), docs


def test_rederive_later_derives_the_file_again_in_every_later_step(tmp_path):
    root, docs = rederive_project(tmp_path)
    result = wf(root, "build")
    assert result.exit_code == 0, result.output
    out = root.joinpath(*OUT)
    assert (out / "02-listing" / "listing.txt").read_text() == "a\nb\n"
    assert (out / "03-more" / "listing.txt").read_text() == "a\nb\nc\n"  # 03's data too
    assert (out / "04-other" / "listing.txt").read_text() == "a\nb\nc\n"
    line = line_of(docs["02_listing.md"], "bash derive")
    owner = [f"workflows/demo/02_listing.md:{line}"]
    entries = manifest(root)
    assert entries["03-more/listing.txt"]["sources"] == owner  # the derive block owns it
    assert entries["03-more/listing.txt"]["inputs"] != entries["02-listing/listing.txt"]["inputs"]
    assert wf(root, "verify").exit_code == 0
    every = tmp_path / "every"
    assert wf(root, "export", str(every)).exit_code == 0
    assert (every / "listing.txt").read_text() == "a\nb\nc\n"  # describes the whole project
    without = tmp_path / "without"
    assert wf(root, "export", str(without), "--steps", "01,03,04").exit_code == 0
    assert not (without / "listing.txt").exists()  # no step 02, no listing, no copies
    upto = tmp_path / "upto"
    assert wf(root, "export", str(upto), "--steps", "01-02").exit_code == 0
    assert (upto / "listing.txt").read_text() == "a\nb\n"


def test_a_later_steps_change_makes_its_rederived_copy_stale(tmp_path):
    root, _ = rederive_project(tmp_path)
    assert wf(root, "build").exit_code == 0
    doc = root / "workflows" / "demo" / "03_more.md"
    doc.write_text(doc.read_text().replace("c\n", "0\n"))
    result = wf(root, "verify", "--format", "json", "--no-diff")
    assert result.exit_code == 1
    stale = {d["path"] for d in json.loads(result.stdout)["drift"] if d["kind"] == "stale"}
    assert {"sdlc/demo/03-more/listing.txt", "sdlc/demo/04-other/listing.txt"} <= stale
    assert "sdlc/demo/02-listing/listing.txt" not in stale  # 02's tree did not change
    assert wf(root, "build").exit_code == 0
    assert root.joinpath(*OUT, "04-other", "listing.txt").read_text() == "0\na\nb\n"


def test_a_later_step_cannot_write_a_rederived_file(tmp_path):
    root, docs = rederive_project(tmp_path, "text path=listing.txt", "by hand\n")
    result = wf(root, "build")
    assert result.exit_code == 2
    line = line_of(docs["02_listing.md"], "bash derive")
    assert "03_more.md:3: listing.txt is derived again by every step after" in result.stderr
    assert f"02_listing.md:{line} (rederive=later)" in result.stderr


def test_show_says_a_file_is_derived_again_later(tmp_path):
    root, docs = rederive_project(tmp_path)
    line = line_of(docs["02_listing.md"], "bash derive")
    shown = "listing.txt  [derived from stdout of: cat data/* | sort; derived again by every later"
    assert f"line {line:>5}  {shown}" in wf(root, "show", "02").stdout


def test_rederive_errors_name_the_line(tmp_path):
    cases = {
        "bash derive path=x.txt rederive=sometimes": "the only value is 'later'",
        "text path=x.txt rederive=later": "'rederive' is only valid on a derive block",
        "bash check rederive=later": "a check block cannot have rederive=",
    }
    for info, message in cases.items():
        doc = "# Step\n\nSome prose.\n\n" + block(info, "echo hi")
        root = write_project(tmp_path / info.replace(" ", "_").replace("=", "_"), {"01_s.md": doc})
        result = wf(root, "build")
        assert result.exit_code == 2, info
        assert "workflows/demo/01_s.md:5: " in result.stderr, (info, result.stderr)
        assert message in result.stderr, (info, result.stderr)
