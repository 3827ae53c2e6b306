"""`python -m app.server.healthcheck`: the image's HEALTHCHECK (exit 0 when live).

A Python one-off instead of curl: the slim runtime image ships no HTTP client, and
adding one only for this would widen the attack surface. `http.client` talks to this
container's own port only; no URL (or scheme) comes from outside.
"""

import http.client
import os
import sys


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/health/live")
        status = connection.getresponse().status
    except OSError as exc:
        sys.stderr.write(f"unhealthy: 127.0.0.1:{port}/health/live: {exc}\n")
        return 1
    finally:
        connection.close()
    return 0 if status == 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
