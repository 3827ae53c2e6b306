"""PostgreSQL for checks: find a server, give each check its own fresh database.

Resolution: ``WF_POSTGRES_URL``, then ``DATABASE_URL`` (when it is a PostgreSQL URL),
then a server on 127.0.0.1:5432, then an embedded ``pgserver`` (optional extra).
An explicit URL that does not answer makes checks skip: it is never silently replaced.

Databases left by a killed run are swept when a later run starts using the server: each
``wf_*`` database carries a comment naming the process that created it (boot id, PID
namespace, pid, start time), and one whose creator is provably gone — same kernel boot
and PID namespace, and no live process with that pid and start time — is dropped. A
database created elsewhere (another machine or container) or without the comment is
never touched.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import ssl
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from runner.checks._service_base import (
    INSTALL_HINT,
    CleanupError,
    ServiceError,
    Unavailable,
    first_line,
    iterate_once,
    redact,
)

if TYPE_CHECKING:
    import pg8000.native

URL_VARS = ("WF_POSTGRES_URL", "DATABASE_URL")
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 5432  # what a URL without them means
LOCAL_PORT = 5432  # where a local server is looked for
_SCHEMES = ("postgres", "postgresql")
_CONNECT_TIMEOUT = 10.0
_CREATE_ATTEMPTS = 20
# CREATE DATABASE copies the template (WAL-logged, then synced) and DROP DATABASE waits
# for the check's sessions to end (FORCE signals them; the server gives them 5 s) and for
# every backend to close the database's files: each takes 1-5 s of wall time at load 20
# on 2 cores here, and tens of seconds when many checks write at once. A slow statement
# is not a failed one, hence a reply timeout far above what they need (the 10 s of a
# plain connection made drops fail), and retries with backoff (0.5, 1, 2, 4 s) for
# what passes.
_DDL_TIMEOUT = 120.0
_DROP_ATTEMPTS = 5
_DROP_BACKOFF = 0.5
_TRANSIENT_STATES = frozenset(
    {
        "55006",  # object_in_use: sessions still ending
        "55P03",  # lock_not_available
        "40P01",  # deadlock_detected
        "57014",  # query_canceled (statement_timeout)
        "57P03",  # cannot_connect_now: starting up / recovering
        "53300",  # too_many_connections
        "53000",  # insufficient_resources
        "53200",  # out_of_memory
    }
)


@dataclass(frozen=True)
class PgTarget:
    """Where and how to connect; ``host`` starting with ``/`` is a Unix socket folder."""

    host: str
    port: int
    user: str
    password: str | None
    database: str  # the database to connect to for CREATE/DROP DATABASE
    sslmode: str | None = None

    def url(self, database: str) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        query: dict[str, str] = {}
        if self.host.startswith("/"):
            netloc, query["host"] = f"{auth}@", self.host
            if self.port != DEFAULT_PORT:
                query["port"] = str(self.port)
        else:
            host = f"[{self.host}]" if ":" in self.host else self.host
            netloc = f"{auth}@{host}:{self.port}"
        if self.sslmode:
            query["sslmode"] = self.sslmode
        suffix = "?" + urlencode(query) if query else ""
        return f"postgresql://{netloc}/{quote(database, safe='')}{suffix}"

    def env(self, database: str) -> dict[str, str]:
        env = {
            "DATABASE_URL": self.url(database),
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGDATABASE": database,
        }
        if self.password:
            env["PGPASSWORD"] = self.password
        if self.sslmode:
            env["PGSSLMODE"] = self.sslmode
        return env

    @property
    def where(self) -> str:
        return self.host if self.host.startswith("/") else f"{self.host}:{self.port}"


def parse_url(url: str) -> PgTarget:
    """A ``postgresql://`` (or ``postgres://``, ``postgresql+driver://``) URL."""
    parts = urlsplit(url)
    if parts.scheme.split("+", 1)[0] not in _SCHEMES:
        raise ValueError(f"not a PostgreSQL URL: {redact(url)}")
    query = dict(parse_qsl(parts.query))
    host = query.get("host") or parts.hostname or DEFAULT_HOST
    port = int(query.get("port") or parts.port or DEFAULT_PORT)
    user = unquote(parts.username or "") or query.get("user") or getpass.getuser()
    password = unquote(parts.password) if parts.password else query.get("password")
    database = unquote(parts.path.lstrip("/")) or "postgres"
    return PgTarget(host, port, user, password or None, database, query.get("sslmode"))


@dataclass(frozen=True)
class Creator:
    """A process, identified beyond pid reuse: its kernel boot, PID namespace and start time."""

    boot: str  # /proc/sys/kernel/random/boot_id
    pidns: str  # inode of /proc/self/ns/pid
    pid: int
    start: int  # clock ticks after boot (/proc/<pid>/stat field 22)

    def comment(self) -> str:
        return f"wf-runner boot={self.boot} pidns={self.pidns} pid={self.pid} start={self.start}"

    @classmethod
    def parse(cls, comment: str | None) -> Creator | None:
        match = _COMMENT.fullmatch(comment or "")
        if match is None:
            return None
        boot, pidns, pid, start = match.groups()
        return cls(boot, pidns, int(pid), int(start))

    def alive(self) -> bool:
        """Whether the process still runs (not a zombie); only meaningful on its machine."""
        found = _stat(self.pid)
        return found is not None and found[1] == self.start and found[0] not in "ZX"


_COMMENT = re.compile(r"wf-runner boot=([0-9a-f-]{36}) pidns=(\d+) pid=(\d+) start=(\d+)")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start time) of a process from /proc, or None when it does not exist."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
        return fields[0].decode(), int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


_ME: dict[int, Creator | None] = {}  # by pid: a forked child is another creator


def this_process() -> Creator | None:
    """This process as a Creator; None where /proc cannot tell (then nothing is swept)."""
    pid = os.getpid()
    if pid not in _ME:
        _ME[pid] = _identify(pid)
    return _ME[pid]


def _identify(pid: int) -> Creator | None:
    proc = Path("/proc")
    try:
        boot = (proc / "sys/kernel/random/boot_id").read_text().strip()
        pidns = re.fullmatch(r"pid:\[(\d+)\]", str((proc / "self/ns/pid").readlink()))
        if str((proc / "self").readlink()) != str(pid):  # a /proc of another namespace
            return None
    except OSError:
        return None
    found = _stat(pid)
    if pidns is None or found is None:
        return None
    creator = Creator(boot, pidns.group(1), pid, found[1])
    return creator if Creator.parse(creator.comment()) == creator else None


def sweep_orphans(target: PgTarget) -> list[str]:
    """Drop the ``wf_*`` databases whose creator is provably gone; their names.

    Best effort: a problem (no permission, server busy) leaves the database alone.
    """
    import pg8000.exceptions

    me = this_process()
    if me is None:
        return []
    try:
        conn = connect(target)
        try:
            rows = conn.run(
                "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname LIKE 'wf\\_%'"
            )
        finally:
            _close(conn)
    except (OSError, pg8000.exceptions.Error):
        return []
    dropped = []
    for name, comment in rows:
        creator = Creator.parse(comment)
        if creator is None or (creator.boot, creator.pidns) != (me.boot, me.pidns):
            continue  # not ours to judge: another machine or container, or no comment
        if creator.alive():
            continue
        with contextlib.suppress(ServiceError):
            drop_database(target, name, attempts=1)  # a later run tries again
            dropped.append(name)
    return dropped


class PostgresProvider:
    """A reachable server; each lease is a database created for the check and dropped after."""

    kind = "postgres"

    def __init__(
        self, target: PgTarget, origin: str, stop: Callable[[], None] | None = None
    ) -> None:
        self.target = target
        self.description = f"PostgreSQL at {target.where} ({origin})"
        self._stop = stop
        self.leaked: list[str] = []  # databases whose drop failed (each one also a warning)

    @contextmanager
    def lease(self) -> Iterator[dict[str, str]]:
        """A fresh database; dropped after, a drop that fails raises CleanupError."""
        name = create_database(self.target)
        try:
            yield self.target.env(name)
        except BaseException:
            self._drop(name)  # the body's error is what the caller must see
            raise
        problem = self._drop(name)
        if problem:
            raise CleanupError(problem)

    def _drop(self, name: str) -> str:
        """Drop ``name``; "" when done, else what was left behind and how it goes away."""
        try:
            drop_database(self.target, name)
        except ServiceError as exc:
            self.leaked.append(name)
            later = (
                "a later wf run on this machine drops it once this run has ended, or drop it"
                if this_process() is not None
                else "drop it"
            )
            return f"database {name} left on {self.target.where}: {exc}; {later} by hand: " + (
                f'DROP DATABASE "{name}" WITH (FORCE)'
            )
        return ""

    def close(self) -> None:
        if self._stop is not None:
            self._stop()


def resolve(env: Mapping[str, str], cache_dir: Path) -> PostgresProvider | Unavailable:
    for var in URL_VARS:
        url = env.get(var)
        if not url:
            continue
        try:
            target = parse_url(url)
        except ValueError:
            if var == "DATABASE_URL":
                continue  # e.g. sqlite:// for the user's own app: not meant for us
            return Unavailable(f"{var} is not a postgresql:// URL: {redact(url)}")
        problem = probe(target)
        if problem is None:
            return _provider(target, f"from {var}")
        return Unavailable(
            f"PostgreSQL from {var} ({redact(url)}) not reachable: {problem}; "
            f"start it, or fix or unset {var}"
        )
    local, problem = _local_server(env)
    if local is not None:
        return _provider(local, "local server")
    embedded = _embedded(cache_dir)
    if isinstance(embedded, PostgresProvider):
        return embedded
    return Unavailable(
        f"PostgreSQL not reachable ({DEFAULT_HOST}:{LOCAL_PORT}: {problem}"
        + (f"; embedded pgserver: {embedded}" if embedded else "")
        + f"): set WF_POSTGRES_URL or start a server on {DEFAULT_HOST}:{LOCAL_PORT}"
        + ("" if embedded else f", or {INSTALL_HINT}")
    )


def _local_server(env: Mapping[str, str]) -> tuple[PgTarget | None, str]:
    """A server on the default port, trying PGUSER, ``postgres`` and the login user."""
    problem = "no answer"
    users = iterate_once(iter([env.get("PGUSER", ""), "postgres", getpass.getuser()]))
    for user in users:
        target = PgTarget(DEFAULT_HOST, LOCAL_PORT, user, env.get("PGPASSWORD") or None, "postgres")
        found = probe(target)
        if found is None:
            return target, ""
        problem = found
        if "connection refused" in found or "cannot connect" in found:
            break  # no server at all: other users will not help
    return None, problem


def _embedded(cache_dir: Path) -> PostgresProvider | str | None:
    """Start pgserver when installed: the provider, a problem, or None (not installed)."""
    try:
        import pgserver  # optional extra, imported only when needed
    except ImportError:
        return None
    data = cache_dir / "services" / "postgres"
    data.mkdir(parents=True, exist_ok=True)
    try:
        with _patient_pg_ctl():
            server = pgserver.get_server(data, cleanup_mode="stop")
        target = replace(parse_url(server.get_uri()), database="postgres")
    except Exception as exc:  # noqa: BLE001 - third-party starter: any failure = unavailable
        return first_line(exc)
    problem = probe(target)
    if problem is not None:
        server.cleanup()
        return problem
    return _provider(target, "embedded pgserver", stop=server.cleanup)


_START_TIMEOUT = 120.0


@contextmanager
def _patient_pg_ctl() -> Iterator[None]:
    """pgserver gives ``pg_ctl -w start`` a fixed 10 s subprocess timeout; on a loaded
    machine a fresh server can take longer, and the timeout then leaves it starting in
    the background, unowned, while wf reports PostgreSQL unavailable. While wf starts
    its server, pgserver's ``pg_ctl`` gets at least ``_START_TIMEOUT`` (pg_ctl's own
    wait, 60 s by default, stays the real bound). Callers hold the resolve lock."""
    from pgserver import postgres_server

    original = postgres_server.pg_ctl

    def pg_ctl(args: list[str], **kwargs: Any) -> str:
        if kwargs.get("timeout") is not None:
            kwargs["timeout"] = max(kwargs["timeout"], _START_TIMEOUT)
        return str(original(args, **kwargs))

    postgres_server.pg_ctl = pg_ctl
    try:
        yield
    finally:
        postgres_server.pg_ctl = original


def _provider(
    target: PgTarget, origin: str, stop: Callable[[], None] | None = None
) -> PostgresProvider:
    sweep_orphans(target)  # what killed runs left behind on this server
    return PostgresProvider(target, origin, stop)


def connect(
    target: PgTarget, database: str | None = None, timeout: float = _CONNECT_TIMEOUT
) -> pg8000.native.Connection:
    """A connection whose every socket operation (connect, each reply) waits ``timeout``."""
    import pg8000.native  # imported lazily: keeps `wf --help` fast

    kwargs: dict[str, Any] = {
        "user": target.user,
        "password": target.password,
        "database": database or target.database,
        "timeout": timeout,
        "ssl_context": _ssl_context(target.sslmode),
        "application_name": "wf-checks",
    }
    if target.host.startswith("/"):
        kwargs["unix_sock"] = f"{target.host}/.s.PGSQL.{target.port}"
    else:
        kwargs.update(host=target.host, port=target.port)
    return pg8000.native.Connection(**kwargs)


def _ssl_context(sslmode: str | None) -> ssl.SSLContext | bool | None:
    if sslmode == "disable":
        return False
    if sslmode == "require":
        return True  # encrypted, unverified (libpq semantics)
    if sslmode in ("verify-ca", "verify-full"):
        context = ssl.create_default_context()
        context.check_hostname = sslmode == "verify-full"
        return context
    return None  # prefer/allow: SSL when the server offers it


def probe(target: PgTarget) -> str | None:
    """None when the server answers ``SELECT 1`` for this user, else the problem."""
    import pg8000.exceptions

    try:
        conn = connect(target)
    except (OSError, pg8000.exceptions.Error) as exc:
        return describe_error(exc)
    try:
        conn.run("SELECT 1")
    except (OSError, pg8000.exceptions.Error) as exc:
        return describe_error(exc)
    finally:
        _close(conn)
    return None


def describe_error(exc: BaseException) -> str:
    """One line from a pg8000 error: the server's message, or why no connection was made."""
    if exc.args and isinstance(exc.args[0], dict):
        fields = exc.args[0]
        return f"{fields.get('M', 'error')} (SQLSTATE {fields.get('C', '?')})"
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, OSError):
        return f"cannot connect: {cause.strerror or first_line(cause)}"
    return first_line(exc)


def _sqlstate(exc: BaseException) -> str:
    return str(exc.args[0].get("C", "")) if exc.args and isinstance(exc.args[0], dict) else ""


def create_database(target: PgTarget) -> str:
    """CREATE DATABASE wf_<random>; retried while the template is briefly busy."""
    name = f"wf_{uuid.uuid4().hex[:16]}"
    for attempt in range(_CREATE_ATTEMPTS):
        if _try_create(target, name):
            return name
        time.sleep(0.05 * (attempt + 1))
    raise ServiceError("cannot create a database: the template database stays in use")


def _try_create(target: PgTarget, name: str) -> bool:
    """True when created, False when the template is in use (55006); raise otherwise."""
    import pg8000.exceptions

    try:
        conn = connect(target, timeout=_DDL_TIMEOUT)
        try:
            conn.run(f'CREATE DATABASE "{name}"')
            _sign(conn, name)
        finally:
            _close(conn)
    except pg8000.exceptions.DatabaseError as exc:
        if _sqlstate(exc) == "55006":
            return False
        raise ServiceError(f"cannot create a database: {describe_error(exc)}") from exc
    except (OSError, pg8000.exceptions.Error) as exc:
        # No reply in time or a lost connection: the server may still be creating it, and
        # unsigned, so no sweep would ever drop it. Drop it once that statement is over.
        _abandon(target, name)
        raise ServiceError(f"cannot create a database: {describe_error(exc)}") from exc
    return True


def _abandon(target: PgTarget, name: str) -> None:
    """Drop ``name`` after a CREATE whose reply never came, once no session runs it."""
    import pg8000.exceptions

    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
        "AND pid <> pg_backend_pid() AND strpos(query, :name) > 0"
    )
    deadline = time.monotonic() + _DDL_TIMEOUT
    with contextlib.suppress(OSError, pg8000.exceptions.Error, ServiceError):
        conn = connect(target, timeout=_DDL_TIMEOUT)
        try:
            while conn.run(query, name=name)[0][0] and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            _close(conn)
        drop_database(target, name)


def _sign(conn: pg8000.native.Connection, name: str) -> None:
    """Name this process in the database's comment, so a later run can sweep it."""
    import pg8000.exceptions

    me = this_process()
    if me is None:
        return
    with contextlib.suppress(pg8000.exceptions.DatabaseError):  # unsigned: never swept
        conn.run(f"COMMENT ON DATABASE \"{name}\" IS '{me.comment()}'")


def drop_database(target: PgTarget, name: str, attempts: int = _DROP_ATTEMPTS) -> None:
    """DROP DATABASE … WITH (FORCE); older servers: end its sessions, then drop.

    Retried with backoff while the server is busy, slow or briefly unreachable (see
    ``_transient``); a problem that no retry fixes (no permission) raises at once.
    """
    problem = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(_DROP_BACKOFF * 2 ** (attempt - 1))
        try:
            _try_drop(target, name)
            return
        except _Retry as retry:
            problem = retry.problem
    raise ServiceError(f"cannot drop database {name} ({attempts} attempts): {problem}")


class _Retry(Exception):
    """A drop that failed for a reason a later attempt may not meet."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _try_drop(target: PgTarget, name: str) -> None:
    import pg8000.exceptions

    try:
        conn = connect(target, timeout=_DDL_TIMEOUT)
    except (OSError, pg8000.exceptions.Error) as exc:
        raise _Retry(describe_error(exc)) from exc
    try:
        try:
            conn.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except pg8000.exceptions.DatabaseError as exc:
            if _sqlstate(exc) != "42601":  # syntax error: server < 13
                raise
            conn.run(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name",
                name=name,
            )
            conn.run(f'DROP DATABASE IF EXISTS "{name}"')
    except (OSError, pg8000.exceptions.Error) as exc:
        if _transient(exc):
            raise _Retry(describe_error(exc)) from exc
        raise ServiceError(f"cannot drop database {name}: {describe_error(exc)}") from exc
    finally:
        _close(conn)


def _transient(exc: BaseException) -> bool:
    """Whether a later attempt may succeed: no answer in time, a lost connection, or a
    server-side state that passes (sessions still ending, too many connections, locks)."""
    state = _sqlstate(exc)
    return not state or state in _TRANSIENT_STATES


def _close(conn: pg8000.native.Connection) -> None:
    import pg8000.exceptions

    with contextlib.suppress(OSError, pg8000.exceptions.Error):
        conn.close()  # fails only when the server is gone already: nothing to release
