"""Breaking changes between two OpenAPI documents: a small rule set, tested.

A client written against OLD breaks on NEW when NEW

- removes a path or an operation (`path-removed`, `operation-removed`),
- renames an `operationId` (generated clients name their methods after it),
- adds a required parameter or makes one required (`parameter-required`),
- requires a body it did not, or a body property clients did not send
  (`request-body-required`, `request-property-required`),
- drops a success response or a property of one (`response-removed`,
  `response-property-removed`).

Everything else found (new paths, operations, optional fields, deprecations) is listed
as a non-breaking change. Schemas are compared after resolving `$ref`, through nested
objects, arrays (`items[]`) and `anyOf`/`oneOf` alternatives.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

Json = dict[str, Any]
METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_MEDIA: Final = ("application/json", "application/problem+json")


@dataclass(frozen=True, order=True)
class Change:
    breaking: bool
    rule: str
    where: str
    detail: str


def _resolve(spec: Json, schema: Json) -> Json:
    seen: set[str] = set()
    while "$ref" in schema:
        ref: str = schema["$ref"]
        if ref in seen or not ref.startswith("#/"):
            return {}
        seen.add(ref)
        node: Any = spec
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = node if isinstance(node, dict) else {}
    return schema


def _fields(spec: Json, schema: Json, prefix: str = "", depth: int = 0) -> dict[str, bool]:
    """Every property path of `schema` -> whether its object requires it."""
    if depth > 32:
        return {}
    schema = _resolve(spec, schema)
    found: dict[str, bool] = {}
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            for path, needed in _fields(spec, option, prefix, depth + 1).items():
                found[path] = found.get(path, False) or (needed and key == "allOf")
    if schema.get("type") == "array" or "items" in schema:
        items = schema.get("items")
        if isinstance(items, dict):
            found.update(_fields(spec, items, f"{prefix}[]", depth + 1))
    names_required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        found[path] = name in names_required
        found.update(_fields(spec, prop, path, depth + 1))
    return found


def _parent(path: str) -> str:
    """`data[].price` -> `data`: the property that holds this one ("" at the top)."""
    parent = path.rpartition(".")[0]
    while parent.endswith("[]"):
        parent = parent[:-2]
    return parent


def _media_schema(spec: Json, holder: Json) -> Json | None:
    content = _resolve(spec, holder).get("content", {})
    for media in JSON_MEDIA:
        if media in content:
            return dict(content[media].get("schema", {}))
    return None


def _operations(spec: Json) -> Iterator[tuple[str, str, Json]]:
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _parameters(spec: Json, operation: Json, path_item: Json) -> dict[tuple[str, str], bool]:
    params = [*path_item.get("parameters", []), *operation.get("parameters", [])]
    resolved = (_resolve(spec, param) for param in params)
    return {(p["in"], p["name"]): bool(p.get("required")) for p in resolved if "name" in p}


def _compare_operation(old: Json, new: Json, path: str, method: str) -> Iterator[Change]:
    where = f"{method.upper()} {path}"
    before, after = old["paths"][path][method], new["paths"][path][method]
    if before.get("operationId") != after.get("operationId"):
        yield Change(
            True,
            "operation-id-changed",
            where,
            f"{before.get('operationId')} -> {after.get('operationId')}",
        )
    if after.get("deprecated") and not before.get("deprecated"):
        yield Change(False, "operation-deprecated", where, "now deprecated")

    old_params = _parameters(old, before, old["paths"][path])
    for key, required in _parameters(new, after, new["paths"][path]).items():
        if required and not old_params.get(key, False):
            yield Change(True, "parameter-required", where, f"{key[0]} parameter `{key[1]}`")

    old_body = _resolve(old, before.get("requestBody", {}))
    new_body = _resolve(new, after.get("requestBody", {}))
    if new_body.get("required") and not old_body.get("required"):
        yield Change(True, "request-body-required", where, "a request body is now required")
    old_schema, new_schema = _media_schema(old, old_body), _media_schema(new, new_body)
    if old_schema is not None and new_schema is not None:
        old_fields = _fields(old, old_schema)
        for field, required in _fields(new, new_schema).items():
            parent = _parent(field)
            if (
                required
                and not old_fields.get(field, False)
                and (not parent or parent in old_fields)
            ):
                yield Change(True, "request-property-required", where, f"body `{field}`")

    old_responses, new_responses = before.get("responses", {}), after.get("responses", {})
    for status, response in old_responses.items():
        if not str(status).startswith("2"):
            continue
        if status not in new_responses:
            yield Change(True, "response-removed", where, f"status {status}")
            continue
        old_schema = _media_schema(old, response)
        new_schema = _media_schema(new, new_responses[status])
        if old_schema is None or new_schema is None:
            continue
        new_fields = _fields(new, new_schema)
        for field in _fields(old, old_schema):
            parent = _parent(field)
            if field not in new_fields and (not parent or parent in new_fields):
                yield Change(True, "response-property-removed", where, f"{status} `{field}`")
        old_fields = _fields(old, old_schema)
        for field in new_fields:
            if field not in old_fields:
                yield Change(False, "response-property-added", where, f"{status} `{field}`")


def compare(old: Json, new: Json) -> list[Change]:
    """Every change from `old` to `new` this rule set knows, breaking ones first."""
    changes: list[Change] = []
    old_ops = {(path, method) for path, method, _ in _operations(old)}
    new_ops = {(path, method) for path, method, _ in _operations(new)}
    old_paths, new_paths = set(old.get("paths", {})), set(new.get("paths", {}))
    for path in sorted(old_paths - new_paths):
        changes.append(Change(True, "path-removed", path, "the path is gone"))
    for path, method in sorted(old_ops - new_ops):
        if path in new_paths:
            changes.append(Change(True, "operation-removed", f"{method.upper()} {path}", "gone"))
    for path, method in sorted(new_ops - old_ops):
        changes.append(Change(False, "operation-added", f"{method.upper()} {path}", "new"))
    for path, method in sorted(old_ops & new_ops):
        changes.extend(_compare_operation(old, new, path, method))
    return sorted(changes, key=lambda change: (not change.breaking, change.where, change.rule))


def render(changes: list[Change]) -> str:
    lines = [
        f"{'BREAKING' if c.breaking else 'change  '}  {c.rule}  {c.where}: {c.detail}"
        for c in changes
    ]
    breaking = sum(change.breaking for change in changes)
    lines.append(f"{breaking} breaking, {len(changes) - breaking} other change(s)")
    return "\n".join(lines) + "\n"
