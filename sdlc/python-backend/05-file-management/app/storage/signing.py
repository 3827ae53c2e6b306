"""HMAC-signed, expiring download URLs for the local backend.

    /api/v1/files/content/files/<id>/original?expires=1767225600&signature=<hex>

The signature is HMAC-SHA256 over the key and the expiry, with a key of its own (derived
from SECRET_KEY unless STORAGE_SIGNING_KEY is set), so changing the key, the variant or
the expiry breaks it, and a URL signed for one user's file never opens another's.
"""

import hashlib
import hmac
import time
from urllib.parse import quote, urlencode

from app.storage.errors import InvalidSignatureError

_CONTEXT = b"backend-service/storage-url/v1"


def derive_signing_key(secret: str) -> bytes:
    """A key for URL signing only: the application secret itself never signs URLs."""
    return hmac.new(secret.encode(), _CONTEXT, hashlib.sha256).digest()


class UrlSigner:
    def __init__(self, key: bytes, *, base_path: str) -> None:
        if len(key) < 32:
            msg = "the URL signing key must be at least 32 bytes"
            raise ValueError(msg)
        self._key = key
        self._base_path = base_path.rstrip("/")

    def _signature(self, key: str, expires: int) -> bytes:
        message = f"{key}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest().encode()

    def sign(self, key: str, *, expires_in: int, now: float | None = None) -> str:
        expires = int(now if now is not None else time.time()) + expires_in
        signature = self._signature(key, expires).decode()
        query = urlencode({"expires": expires, "signature": signature})
        return f"{self._base_path}/{quote(key)}?{query}"

    def verify(self, key: str, expires: int, signature: str, *, now: float | None = None) -> None:
        """Raise `InvalidSignatureError` unless the URL is intact and not expired."""
        expected = self._signature(key, expires)
        # Compare first, in constant time; only then look at the clock. As bytes: with
        # two str, compare_digest raises TypeError for any non-ASCII character, and the
        # signature comes straight from the query string.
        presented = signature.lower().encode("utf-8", "replace")
        if not hmac.compare_digest(expected, presented):
            raise InvalidSignatureError("The download URL is invalid")
        if (now if now is not None else time.time()) >= expires:
            raise InvalidSignatureError("The download URL has expired")
