"""S3 for checks: find an S3-compatible endpoint, give each check a fresh bucket name.

Resolution: ``WF_S3_ENDPOINT_URL``, then ``S3_ENDPOINT_URL``, then a moto server on
127.0.0.1:5000, then moto's ``ThreadedMotoServer`` in-process (optional extra). The
check receives the endpoint, credentials (dummy ones for moto; the user's own for an
endpoint they chose) and ``S3_BUCKET``, a name no other check uses; the check creates it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import ProxyHandler, build_opener

from runner.checks._service_base import INSTALL_HINT, Unavailable, first_line, free_port

URL_VARS = ("WF_S3_ENDPOINT_URL", "S3_ENDPOINT_URL")
DEFAULT_URL = "http://127.0.0.1:5000"
_TIMEOUT = 3.0
# The embedded server answers its first request only after moto has imported its S3
# backend: seconds of CPU in this process, whose GIL the check threads share. At load
# 20 on 2 cores that exceeded 3 s ("embedded moto server: timed out", the check
# skipped); a server we just started in-process gets the wall time it needs.
_EMBEDDED_TIMEOUT = 60.0
_DUMMY_KEY = "testing"  # moto accepts any credentials; never send real ones to it


def probe(endpoint: str, timeout: float = _TIMEOUT) -> str | None:
    """None when ``GET /`` answers like S3 (a bucket list or an S3 error document)."""
    loopback = urlsplit(endpoint).hostname in ("127.0.0.1", "localhost", "::1")
    opener = build_opener(ProxyHandler({})) if loopback else build_opener()
    try:
        with opener.open(endpoint.rstrip("/") + "/", timeout=timeout) as response:
            body = response.read(65536)
    except HTTPError as exc:  # unsigned requests are refused by real S3 servers: fine
        body = exc.read(65536)
    except (URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ConnectionRefusedError):
            return "connection refused"
        return first_line(reason if isinstance(reason, BaseException) else exc)
    if b"ListAllMyBucketsResult" in body or (b"<Error>" in body and b"<Code>" in body):
        return None
    return "answers, but not like S3"


class S3Provider:
    kind = "s3"

    def __init__(
        self,
        endpoint: str,
        origin: str,
        credentials: Mapping[str, str],
        stop: Callable[[], None] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.description = f"S3 at {endpoint} ({origin})"
        self._credentials = dict(credentials)
        self._stop = stop

    @contextmanager
    def lease(self) -> Iterator[dict[str, str]]:
        yield {
            "S3_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_S3": self.endpoint,  # boto3 >= 1.28 picks this up by itself
            "S3_BUCKET": f"wf-{uuid.uuid4().hex[:20]}",
            **self._credentials,
        }

    def close(self) -> None:
        if self._stop is not None:
            self._stop()


def _credentials(env: Mapping[str, str], users_own: bool) -> dict[str, str]:
    region = env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1"
    creds = {
        "AWS_ACCESS_KEY_ID": _DUMMY_KEY,
        "AWS_SECRET_ACCESS_KEY": _DUMMY_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
    if users_own and env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        creds["AWS_ACCESS_KEY_ID"] = env["AWS_ACCESS_KEY_ID"]
        creds["AWS_SECRET_ACCESS_KEY"] = env["AWS_SECRET_ACCESS_KEY"]
        if env.get("AWS_SESSION_TOKEN"):
            creds["AWS_SESSION_TOKEN"] = env["AWS_SESSION_TOKEN"]
    return creds


def resolve(env: Mapping[str, str], cache_dir: Path) -> S3Provider | Unavailable:
    for var in URL_VARS:
        url = env.get(var)
        if not url:
            continue
        problem = probe(url)
        if problem is None:
            return S3Provider(url, f"from {var}", _credentials(env, users_own=True))
        return Unavailable(
            f"S3 from {var} ({url}) not reachable: {problem}; start it, or fix or unset {var}"
        )
    problem = probe(DEFAULT_URL)
    if problem is None:
        return S3Provider(DEFAULT_URL, "local server", _credentials(env, users_own=False))
    embedded = _embedded(env)
    if isinstance(embedded, S3Provider):
        return embedded
    return Unavailable(
        f"S3 not reachable ({DEFAULT_URL}: {problem}"
        + (f"; embedded moto server: {embedded}" if embedded else "")
        + f"): set S3_ENDPOINT_URL or start `moto_server` on {DEFAULT_URL}"
        + ("" if embedded else f", or {INSTALL_HINT}")
    )


def _embedded(env: Mapping[str, str]) -> S3Provider | str | None:
    """moto's in-process server when installed: provider, problem, or None."""
    try:
        from moto.server import ThreadedMotoServer  # optional extra
    except ImportError:
        return None
    port = free_port()
    # werkzeug logs every request to stderr unless its logger has a level: that would put
    # each check's S3 traffic into wf's own output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - third-party starter: any failure = unavailable
        return first_line(exc)
    endpoint = f"http://127.0.0.1:{port}"
    problem = probe(endpoint, timeout=_EMBEDDED_TIMEOUT)
    if problem is not None:
        server.stop()
        return problem
    return S3Provider(endpoint, "embedded moto", _credentials(env, users_own=False), server.stop)
