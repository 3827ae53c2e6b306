"""`python -m app.server.healthcheck`: the image's HEALTHCHECK (exit 0 when live).

A Python one-off instead of curl: the slim runtime image ships no HTTP client, and
adding one only for this would widen the attack surface.
"""

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health/live"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        sys.stderr.write(f"unhealthy: {url}: {exc}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
