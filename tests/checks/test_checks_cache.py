"""The result cache: passes are remembered by everything a check depends on."""

from __future__ import annotations

import dataclasses

from runner.checks import run_checks

FILES = {"app/main.py": b"print('v1')\n", "README.md": b"demo\n"}


def counting_job(make_job, side, files=FILES, **fields):
    """A check that appends a line to ``side`` (outside its workspace) each time it runs."""
    return make_job(f"echo ran >> {side}; cat app/main.py", files, **fields)


def runs(side) -> int:
    return len(side.read_text().splitlines()) if side.exists() else 0


def test_unchanged_rerun_is_a_cache_hit(make_job, options, tmp_path):
    side = tmp_path / "side"
    [first] = run_checks([counting_job(make_job, side)], options)
    [second] = run_checks([counting_job(make_job, side)], options)
    assert (first.status, first.cached) == ("passed", False)
    assert (second.status, second.cached) == ("passed", True)
    assert second.output == first.output == "print('v1')\n"
    assert runs(side) == 1  # the command did not run again
    assert len(list((options.cache_dir / "results").iterdir())) == 1


def test_cache_hit_still_reports_progress(make_job, options, tmp_path):
    side = tmp_path / "side"
    run_checks([counting_job(make_job, side)], options)
    events = []
    run_checks([counting_job(make_job, side)], options, progress=lambda m, r: events.append(r))
    assert events[0] is None
    assert events[1] is not None and events[1].cached


def test_moving_the_check_in_its_document_keeps_the_cache(make_job, options, tmp_path):
    side = tmp_path / "side"
    run_checks([counting_job(make_job, side, line=10)], options)
    [result] = run_checks([counting_job(make_job, side, line=25)], options)
    assert result.cached
    assert runs(side) == 1


def test_editing_a_file_of_the_tree_misses(make_job, options, tmp_path):
    side = tmp_path / "side"
    run_checks([counting_job(make_job, side)], options)
    edited = {**FILES, "app/main.py": b"print('v2')\n"}
    [result] = run_checks([counting_job(make_job, side, files=edited)], options)
    assert not result.cached
    assert result.output == "print('v2')\n"
    assert runs(side) == 2


def test_adding_a_file_or_changing_the_spec_misses(make_job, options, tmp_path):
    side = tmp_path / "side"
    run_checks([counting_job(make_job, side)], options)
    [added] = run_checks([counting_job(make_job, side, files={**FILES, "x": b""})], options)
    [longer] = run_checks([counting_job(make_job, side, timeout=99.0)], options)
    assert not added.cached
    assert not longer.cached
    assert runs(side) == 3


def test_failures_are_never_cached(make_job, options, tmp_path):
    side = tmp_path / "side"
    job = make_job(f"echo ran >> {side}; exit 1")
    results = [run_checks([job], options)[0] for _ in range(2)]
    assert [r.status for r in results] == ["failed", "failed"]
    assert not any(r.cached for r in results)
    assert runs(side) == 2
    assert not (options.cache_dir / "results").exists()


def test_timeouts_and_skips_are_never_cached(make_job, options, tmp_path):
    env = {**options.env, "REDIS_URL": "redis://127.0.0.1:1/0"}
    opts = dataclasses.replace(options, env=env)
    jobs = [make_job("sleep 5", name="slow", timeout=0.5), make_job("true", needs=("redis",))]
    for _ in range(2):
        assert [r.status for r in run_checks(jobs, opts)] == ["timeout", "skipped"]
    assert not (options.cache_dir / "results").exists()


def test_use_cache_false_runs_again_and_refreshes_the_cache(make_job, options, tmp_path):
    side = tmp_path / "side"
    run_checks([counting_job(make_job, side)], options)
    [forced] = run_checks(
        [counting_job(make_job, side)], dataclasses.replace(options, use_cache=False)
    )
    [again] = run_checks([counting_job(make_job, side)], options)
    assert not forced.cached
    assert again.cached
    assert runs(side) == 2


def test_damaged_cache_entry_is_ignored(make_job, options, tmp_path):
    side = tmp_path / "side"
    run_checks([counting_job(make_job, side)], options)
    [entry] = (options.cache_dir / "results").iterdir()
    entry.write_text("{not json")
    [result] = run_checks([counting_job(make_job, side)], options)
    assert result.status == "passed"
    assert not result.cached
    assert runs(side) == 2


def test_results_are_stored_with_the_shared_atomic_writer(make_job, options, tmp_path, monkeypatch):
    import runner.transaction

    written = []
    real = runner.transaction.write_atomic

    def spy(path, content, *args, **kwargs):
        written.append(path)
        return real(path, content, *args, **kwargs)

    monkeypatch.setattr(runner.transaction, "write_atomic", spy)
    run_checks([counting_job(make_job, tmp_path / "side")], options)
    results = options.cache_dir / "results"
    assert sorted(written) == sorted([*results.iterdir(), options.cache_dir / "durations.json"])
    assert len(list(results.iterdir())) == 1
    assert run_checks([counting_job(make_job, tmp_path / "side")], options)[0].cached


def test_a_result_that_cannot_be_stored_costs_only_a_rerun(make_job, options, tmp_path):
    options.cache_dir.mkdir(parents=True)
    (options.cache_dir / "results").write_text("a file where the folder should be")
    side = tmp_path / "side"
    for _ in range(2):
        [result] = run_checks([counting_job(make_job, side)], options)
        assert result.status == "passed"
        assert not result.cached
    assert runs(side) == 2


def test_planted_passed_result_does_not_skip_the_check(make_job, options, tmp_path):
    """A result this user's key did not seal (committed to a checkout's .wf/): rerun."""
    side = tmp_path / "side"
    run_checks([counting_job(make_job, side)], options)
    [entry] = (options.cache_dir / "results").iterdir()
    _mac, _, payload = entry.read_bytes().partition(b"\n")
    entry.write_bytes(payload)  # the plain result, as someone without the key would write it
    [result] = run_checks([counting_job(make_job, side)], options)
    assert not result.cached
    assert runs(side) == 2
