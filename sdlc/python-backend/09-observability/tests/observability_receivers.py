"""Real protocol peers on loopback: a Sentry envelope endpoint and an OTLP/HTTP trace
collector. Tests and checks point the app at them instead of sentry.io or Jaeger."""

import gzip
import json
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _decode_body(handler: BaseHTTPRequestHandler) -> bytes:
    body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
    encoding = (handler.headers.get("Content-Encoding") or "").lower()
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # type: ignore[import-not-found,unused-ignore]

        return bytes(brotli.decompress(body))
    return body


@dataclass
class Received:
    requests: list[tuple[str, bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


@contextmanager
def http_receiver(status: int = 200) -> Iterator[tuple[str, Received]]:
    """A loopback HTTP server that records (path, decoded body) of every POST."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.requests.append((self.path, _decode_body(self)))
            received.arrived.set()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def envelope_items(body: bytes) -> list[tuple[dict[str, Any], Any]]:
    """Sentry envelope: a header line, then (item header line, payload) pairs."""
    lines = body.split(b"\n")
    items: list[tuple[dict[str, Any], Any]] = []
    index = 1
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        header = json.loads(lines[index])
        length = header.get("length")
        if length is not None:
            rest = b"\n".join(lines[index + 1 :])
            payload_bytes = rest[:length]
            consumed = payload_bytes.count(b"\n") + 1
        else:
            payload_bytes = lines[index + 1]
            consumed = 1
        try:
            payload: Any = json.loads(payload_bytes)
        except ValueError:
            payload = payload_bytes
        items.append((header, payload))
        index += 1 + consumed
    return items
