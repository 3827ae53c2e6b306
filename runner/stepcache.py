"""The parse cache's file format: a parsed ``Step`` as JSON data, authenticated.

A cache file is read from the project's ``.wf/``, which a checkout someone else
controls may carry. So it is data only (JSON, never pickle: loading it cannot run
code), and it is trusted only when it carries an HMAC made with this user's own key
(``~/.cache/wf/cache-key``, outside every project): a planted or copied file is a
cache miss, so it can neither run code nor make ``wf verify`` see other documents.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
import types
import typing
from dataclasses import fields, is_dataclass
from functools import cache
from pathlib import Path
from typing import Any

from runner.model import Step

FREE_FIELDS = ("vars", "generate")  # Step's fields typed Any: checked by a round trip
MAX_CACHE_BYTES = 64 * 1024 * 1024  # larger files are not ours (documents are far smaller)
_KEY_BYTES = 32


def key_file() -> Path:
    """Where this user's cache key lives: the XDG cache folder, never inside a project."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wf" / "cache-key"


SHARED_KEY_VARIABLE = "WF_CACHE_KEY"


@cache
def machine_key() -> bytes | None:
    """This user's secret for authenticating cache files (None: caching is off).

    ``WF_CACHE_KEY`` (e.g. a CI secret) replaces it: machines that share the secret
    trust each other's caches, so a ``.wf/`` restored by a CI cache action still hits.
    """
    shared = os.environ.get(SHARED_KEY_VARIABLE, "")
    if shared:
        return hashlib.sha256(b"wf-cache-key\0" + shared.encode("utf-8")).digest()
    path = key_file()
    with contextlib.suppress(OSError):
        data = read_regular(path, _KEY_BYTES + 1)
        if data is not None and len(data) == _KEY_BYTES:
            return data
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = secrets.token_bytes(_KEY_BYTES)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(fresh)
        return fresh
    return None  # no writable home (and no key): every parse is fresh


def read_regular(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file of at most ``limit`` bytes (None: not such a file).

    Opened without following a final symlink and without blocking, so a planted FIFO,
    device or link cannot hang or redirect the read.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        data = handle.read(limit + 1)
    return data if len(data) <= limit else None


def seal(payload: bytes, key: bytes, entry: str) -> bytes:
    """``payload`` prefixed with its HMAC-SHA256 (hex) and a newline. The MAC covers
    ``entry`` (the cache file's name) too, so a sealed file copied to another name - a
    passing check's result under a failing check's key - does not unseal there."""
    return _mac(payload, key, entry) + b"\n" + payload


def unseal(data: bytes, key: bytes, entry: str) -> bytes | None:
    """The payload when its HMAC is right for ``entry`` (None: forged, planted, moved
    from another entry or damaged)."""
    mac, newline, payload = data.partition(b"\n")
    return payload if newline and hmac.compare_digest(mac, _mac(payload, key, entry)) else None


def _mac(payload: bytes, key: bytes, entry: str) -> bytes:
    message = entry.encode("utf-8", "surrogateescape") + b"\0" + payload
    return hmac.new(key, message, hashlib.sha256).hexdigest().encode()


def encode_step(step: Step) -> bytes | None:
    """The step as JSON, or None when JSON cannot carry it exactly (dates, NaN, sets...).

    Typed fields (strings, numbers, paths, tuples of model objects) come back exactly by
    construction; only the free-form YAML values (``vars``, ``generate``) can hold what
    JSON changes (a date, a number as a key), so only they are checked by a round trip
    (decoding the whole step again cost as much as parsing it)."""
    try:
        payload = json.dumps(_to_data(step), ensure_ascii=False, allow_nan=False).encode()
        free = [step.vars, step.generate]  # FREE_FIELDS
        if json.loads(json.dumps(free, allow_nan=False)) != free:
            return None
    except (TypeError, ValueError, RecursionError):
        return None
    return payload


def decode_step(payload: bytes) -> Step | None:
    """The step stored by ``encode_step`` (None: not one)."""
    try:
        value = _from_data(Step, json.loads(payload))
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    return value if isinstance(value, Step) else None


@cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    """A model dataclass's field names (None: not a dataclass), found once per class."""
    return tuple(f.name for f in fields(cls)) if is_dataclass(cls) else None


def _to_data(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    names = _field_names(kind)
    if names is not None:
        return {name: _to_data(getattr(value, name)) for name in names}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_to_data(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_data(item) for key, item in value.items()}
    return value


def _from_data(hint: Any, data: Any) -> Any:
    """Rebuild a value of type ``hint`` (a model dataclass, Path, tuple[...], ...)."""
    origin = typing.get_origin(hint)
    if is_dataclass(hint):
        return _dataclass_from(hint, data)
    if hint is Path:
        return Path(_expect(data, str))
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_from_data(item, entry) for entry in _expect(data, list))
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in typing.get_args(hint):
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _from_data(options[0], data)
    if origin is dict:
        return dict(_expect(data, dict))
    if hint in (str, int, float, bool):
        return _expect(data, hint)
    return data  # Any: plain JSON data, checked by encode_step's round trip


@cache
def _shape(cls: Any) -> tuple[dict[str, Any], frozenset[str]]:
    """A model dataclass's field types and names, resolved once per class (resolving the
    string annotations per decoded object was most of a cache hit's cost)."""
    return typing.get_type_hints(cls), frozenset(f.name for f in fields(cls))


def _dataclass_from(cls: Any, data: Any) -> Any:
    hints, names = _shape(cls)
    data = _expect(data, dict)
    if data.keys() != names:
        raise KeyError("fields differ")
    return cls(**{name: _from_data(hints[name], data[name]) for name in names})


def _expect(data: Any, kind: type) -> Any:
    if kind is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
        raise TypeError(f"expected {kind.__name__}")
    return data
