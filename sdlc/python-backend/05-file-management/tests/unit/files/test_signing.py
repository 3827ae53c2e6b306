"""Signed local download URLs: valid, expired, tampered, another file's key."""

from urllib.parse import parse_qs, urlsplit

import pytest

from app.storage.errors import InvalidSignatureError
from app.storage.signing import UrlSigner, derive_signing_key

KEY = b"k" * 32
NOW = 1_800_000_000.0
OWN = "files/" + "a" * 32 + "/original"
OTHER = "files/" + "b" * 32 + "/original"


def parts(url: str) -> tuple[str, int, str]:
    split = urlsplit(url)
    query = parse_qs(split.query)
    key = split.path.removeprefix("/api/v1/files/content/")
    return key, int(query["expires"][0]), query["signature"][0]


@pytest.fixture
def signer() -> UrlSigner:
    return UrlSigner(KEY, base_path="/api/v1/files/content")


def test_a_fresh_url_is_valid(signer: UrlSigner) -> None:
    key, expires, signature = parts(signer.sign(OWN, expires_in=60, now=NOW))
    assert key == OWN
    assert expires == NOW + 60
    signer.verify(key, expires, signature, now=NOW + 59)


def test_an_expired_url_is_refused(signer: UrlSigner) -> None:
    key, expires, signature = parts(signer.sign(OWN, expires_in=60, now=NOW))
    with pytest.raises(InvalidSignatureError, match="expired"):
        signer.verify(key, expires, signature, now=NOW + 60)


def test_a_tampered_signature_or_expiry_is_refused(signer: UrlSigner) -> None:
    key, expires, signature = parts(signer.sign(OWN, expires_in=60, now=NOW))
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    with pytest.raises(InvalidSignatureError, match="invalid"):
        signer.verify(key, expires, flipped, now=NOW)
    with pytest.raises(InvalidSignatureError, match="invalid"):
        signer.verify(key, expires + 3600, signature, now=NOW)  # "extend" the link
    with pytest.raises(InvalidSignatureError, match="invalid"):
        signer.verify(key, expires, "", now=NOW)


def test_a_non_ascii_signature_is_refused_not_an_error(signer: UrlSigner) -> None:
    # compare_digest of two str raises TypeError on non-ASCII input (the 500 that
    # schemathesis found); whatever arrives in the query string is just "invalid".
    key, expires, signature = parts(signer.sign(OWN, expires_in=60, now=NOW))
    for presented in ["é" * 64, signature[:-1] + "é", "\ud800", "\x00" * 64]:
        with pytest.raises(InvalidSignatureError, match="invalid"):
            signer.verify(key, expires, presented, now=NOW)


def test_a_signature_does_not_open_another_key(signer: UrlSigner) -> None:
    _, expires, signature = parts(signer.sign(OWN, expires_in=60, now=NOW))
    with pytest.raises(InvalidSignatureError):
        signer.verify(OTHER, expires, signature, now=NOW)
    with pytest.raises(InvalidSignatureError):  # the thumbnail of the same file, too
        signer.verify(OWN.replace("original", "thumb-64.webp"), expires, signature, now=NOW)


def test_another_signing_key_does_not_verify(signer: UrlSigner) -> None:
    key, expires, signature = parts(signer.sign(OWN, expires_in=60, now=NOW))
    other = UrlSigner(b"o" * 32, base_path="/api/v1/files/content")
    with pytest.raises(InvalidSignatureError):
        other.verify(key, expires, signature, now=NOW)


def test_the_derived_key_is_not_the_secret() -> None:
    secret = "s" * 48
    derived = derive_signing_key(secret)
    assert len(derived) == 32
    assert secret.encode() not in derived
    assert derived == derive_signing_key(secret) != derive_signing_key("t" * 48)


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        UrlSigner(b"short", base_path="/x")
