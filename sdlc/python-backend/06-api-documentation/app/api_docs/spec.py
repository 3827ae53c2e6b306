"""The OpenAPI 3.1 document of the app: FastAPI's generated schema, made complete.

`build_openapi(app)` starts from `fastapi.openapi.utils.get_openapi` and adds what the
routes cannot say themselves: metadata, ordered tags, readable `operationId`s, the one
error shape on every operation that can fail, descriptions and examples (from the
models, else from `catalog`), and the security schemes. It is a pure function of the
routes and the catalog: the same code gives the same bytes, which is what lets
`openapi/openapi.json` be a derived, committed file.
"""

import copy
import importlib.metadata
import inspect
import re
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.api import errors as api_errors
from app.api.deps import get_session
from app.api.guards import require_writer
from app.api_docs import catalog

Json = dict[str, Any]

DISTRIBUTION: Final = "backend-service"
PROBLEM_MEDIA_TYPE: Final = api_errors.PROBLEM_MEDIA_TYPE
SCHEMA_REF: Final = "#/components/schemas/"
WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# FastAPI's name for the OAuth2PasswordBearer scheme of step 04 (its tests read it).
OAUTH2: Final = "OAuth2PasswordBearer"
BEARER: Final = "BearerJWT"
ERROR_HEADERS: Final[dict[int, Json]] = {
    401: {
        "WWW-Authenticate": {
            "description": '`Bearer`, with `error="invalid_token"` for a bad token.',
            "required": True,
            "schema": {"type": "string"},
            "example": "Bearer",
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before the next attempt.",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
            "example": 60,
        }
    },
}
_VERSIONED_PATH = re.compile(r"^/api/v(\d+)/")
_BODY_SCHEMA = re.compile(r"^Body_(.+)$")
# RFC 9110 reason phrases (429/428/431: RFC 6585, 451: RFC 7725). Not `HTTPStatus.phrase`:
# Python 3.13 renamed 413, 414, 416 and 422 ("Unprocessable Entity" -> "Unprocessable
# Content"), and the committed document must not depend on the Python that derives it.
REASON_PHRASES: Final[dict[int, str]] = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    417: "Expectation Failed",
    421: "Misdirected Request",
    422: "Unprocessable Content",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    451: "Unavailable For Legal Reasons",
}


def reason_phrase(status: int) -> str:
    return REASON_PHRASES.get(status, f"Client Error {status}")


def package_version() -> str:
    """The version of the installed distribution, else `pyproject.toml`'s (a checkout)."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        with pyproject.open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])


def operation_id(route: APIRoute) -> str:
    """`list_products`, `list_products_v2`: the function's name, plus the API version
    above 1. A path can be renamed without changing it; generated clients keep their
    method names. An explicit `operation_id=` on the route wins."""
    if route.operation_id:
        return route.operation_id
    match = _VERSIONED_PATH.match(route.path_format)
    version = int(match.group(1)) if match else 1
    return route.name if version == 1 else f"{route.name}_v{version}"


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _is_role_guard(call: Callable[..., Any]) -> bool:
    # `require_roles(...)` returns a closure; `require_writer` wraps one.
    qualname = getattr(call, "__qualname__", "")
    return call is require_writer or qualname.startswith("require_roles.")


def _error_statuses(route: APIRoute, method: str, operation: Json) -> set[int]:
    """The 4xx answers this operation can give, from what the route depends on."""
    calls = list(_calls(route.dependant))
    statuses = set(catalog.EXTRA_ERRORS.get(route.name, ()))
    if operation.get("parameters") or "requestBody" in operation:
        statuses.add(422)
    if operation.get("security"):
        statuses.add(401)
    if any(_is_role_guard(call) for call in calls):
        statuses.add(403)
    if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
        statuses.add(404)
    if "requestBody" in operation:
        statuses.add(400)  # a body that is not valid JSON
    if any(parameter["name"] == "sort" for parameter in operation.get("parameters", [])):
        statuses.add(400)  # unknown or not sortable field (InvalidQueryError)
    if method in WRITE_METHODS and require_writer in calls and get_session in calls:
        statuses.add(409)  # unique values, and rows still referenced (IntegrityError)
    for code in route.responses:
        if str(code).isdigit() and 400 <= int(code) < 500:
            statuses.add(int(code))
    return statuses


def _problem_example(status: int) -> Json:
    phrase = reason_phrase(status)
    code = re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")
    known = catalog.ERROR_EXAMPLES.get(status, {"code": code})
    return {
        "type": "about:blank",
        "title": phrase,
        "status": status,
        "detail": known.get("detail", f"{phrase}."),
        **known,
    }


def _error_response(status: int, existing: Json | None) -> Json:
    response: Json = {
        "description": catalog.ERROR_DESCRIPTIONS.get(status, reason_phrase(status)),
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": f"{SCHEMA_REF}Problem"},
                "example": _problem_example(status),
            }
        },
    }
    if existing and existing.get("description") not in (None, "", "Validation Error"):
        response["description"] = existing["description"]
    headers = {**ERROR_HEADERS.get(status, {}), **(existing or {}).get("headers", {})}
    if headers:
        response["headers"] = headers
    return response


def _walk(node: object) -> Iterator[Json]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _rename_schemas(spec: Json, renames: dict[str, str]) -> None:
    schemas: Json = spec["components"]["schemas"]
    for old, new in renames.items():
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new
    refs = {f"{SCHEMA_REF}{old}": f"{SCHEMA_REF}{new}" for old, new in renames.items()}
    for node in _walk(spec):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in refs:
            node["$ref"] = refs[ref]


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


class _Examples:
    """Examples composed from property examples (`Schema.examples` wins)."""

    def __init__(self, spec: Json) -> None:
        self.schemas: Json = spec["components"]["schemas"]
        self.seen: set[str] = set()

    def of(self, schema: Json) -> tuple[bool, Any]:
        if schema.get("examples"):
            return True, schema["examples"][0]
        if "example" in schema:
            return True, schema["example"]
        if "$ref" in schema:
            name = schema["$ref"].removeprefix(SCHEMA_REF)
            if name in self.seen:
                return False, None  # recursive model: stop
            self.seen.add(name)
            try:
                return self.of(self.schemas[name])
            finally:
                self.seen.discard(name)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [option for option in schema[key] if option.get("type") != "null"]
                for option in options:
                    found, value = self.of(option)
                    if found:
                        return True, value
                return False, None
        if "const" in schema:
            return True, schema["const"]
        if schema.get("enum"):
            return True, schema["enum"][0]
        if schema.get("type") == "array" and "items" in schema:
            found, value = self.of(schema["items"])
            return (True, [value]) if found else (False, None)
        if "properties" in schema:
            example: Json = {}
            required = set(schema.get("required", []))
            for name, prop in schema["properties"].items():
                found, value = self.of(prop)
                if found:
                    example[name] = value
                elif name in required:
                    return False, None
            return True, example
        if "default" in schema:
            return True, schema["default"]
        return False, None


def _document_schemas(spec: Json) -> None:
    schemas: Json = spec["components"]["schemas"]
    for name, schema in schemas.items():
        if "description" not in schema and name in catalog.SCHEMAS:
            schema["description"] = catalog.SCHEMAS[name]
        for prop_name, prop in schema.get("properties", {}).items():
            entry = catalog.field_doc(name, prop_name)
            if entry is None:
                continue
            prop.setdefault("description", entry.description)
            if entry.has_example and "examples" not in prop and "$ref" not in prop:
                prop["examples"] = [entry.example]
    examples = _Examples(spec)
    for schema in schemas.values():
        if "properties" in schema and "examples" not in schema:
            found, value = examples.of(schema)
            if found:
                schema["examples"] = [value]


def _describe_parameter(parameter: Json) -> None:
    name: str = parameter["name"]
    entry = catalog.PARAMETERS.get(name)
    if entry is None and parameter["in"] == "query":
        field, _, bound = name.rpartition("_")
        if bound in {"min", "max"} and field:
            word = "at least" if bound == "min" else "at most"
            entry = catalog.Doc(f"Only records whose `{field}` is {word} this value.")
        else:
            entry = catalog.Doc(f"Only records whose `{name}` equals this value.")
    if entry is None:
        return
    parameter.setdefault("description", entry.description)
    parameter["schema"].setdefault("description", parameter["description"])
    if entry.has_example and entry.example is not None and "example" not in parameter:
        parameter["example"] = entry.example


def _tags(app: FastAPI, routes: list[APIRoute]) -> list[Json]:
    used: dict[str, str | None] = {}
    for route in routes:
        module = sys.modules.get(route.endpoint.__module__)
        doc = inspect.getdoc(module) if module else None
        for tag in route.tags:
            name = str(tag)
            used.setdefault(name, doc.splitlines()[0] if doc else None)
    order = list(catalog.TAGS)
    tags = []
    for name in sorted(
        used, key=lambda tag: (tag not in order, order.index(tag) if tag in order else 0, tag)
    ):
        description = catalog.TAGS.get(name) or used[name]
        tags.append({"name": name, "description": description} if description else {"name": name})
    return tags


def documented_routes(app: FastAPI) -> list[APIRoute]:
    """Every route in the schema, with its final path (through included routers).

    FastAPI >= 0.13x keeps included routers as objects and resolves them lazily;
    `iter_route_contexts` gives each route as it is served (`path_format`, `methods`,
    `dependant`, ...). Older versions flatten `app.routes` themselves.
    """
    contexts = getattr(routing, "iter_route_contexts", None)
    routes: list[Any] = list(contexts(app.routes)) if contexts else list(app.routes)
    return [
        route
        for route in routes
        if isinstance(getattr(route, "original_route", route), APIRoute) and route.include_in_schema
    ]


def build_openapi(app: FastAPI) -> Json:
    """The complete OpenAPI 3.1 document of `app` (a fresh dict on every call)."""
    routes = documented_routes(app)
    spec = get_openapi(
        title=app.title,
        version=package_version(),
        openapi_version="3.1.0",
        summary=catalog.API_SUMMARY,
        description=catalog.API_DESCRIPTION,
        routes=app.routes,
        tags=_tags(app, routes),
        servers=copy.deepcopy(catalog.SERVERS),
        terms_of_service=catalog.TERMS_OF_SERVICE,
        contact=dict(catalog.CONTACT),
        license_info=dict(catalog.LICENSE),
        separate_input_output_schemas=app.separate_input_output_schemas,
    )
    components: Json = spec.setdefault("components", {})
    schemas: Json = components.setdefault("schemas", {})
    problem = api_errors.Problem.model_json_schema(ref_template=SCHEMA_REF + "{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem

    deprecations = getattr(app.state, "deprecations", ())
    renames: dict[str, str] = {}
    seen_ids: dict[str, str] = {}
    for route in routes:
        deprecation = next((d for d in deprecations if d.endpoint is route.endpoint), None)
        for method in sorted(route.methods or ()):
            operation: Json = spec["paths"][route.path_format][method.lower()]
            if deprecation is not None:
                operation["deprecated"] = True
                note = (
                    f"**Deprecated** since {deprecation.since:%Y-%m-%d}; answers until "
                    f"{deprecation.sunset:%Y-%m-%d}. Use `{deprecation.successor}`."
                )
                operation["description"] = "\n\n".join(
                    part for part in (operation.get("description"), note) if part
                )
                for code, response in operation["responses"].items():
                    if code.startswith("2"):
                        response.setdefault("headers", {}).update(deprecation.response_headers())
            new_id = operation_id(route)
            if new_id in seen_ids:
                where = f"{method} {route.path_format}"
                msg = f"operationId {new_id!r} of {where} is also {seen_ids[new_id]}"
                raise ValueError(msg)
            seen_ids[new_id] = f"{method} {route.path_format}"
            old_id = operation["operationId"]
            operation["operationId"] = new_id
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                ref = media.get("schema", {}).get("$ref", "")
                match = _BODY_SCHEMA.match(ref.removeprefix(SCHEMA_REF))
                if match and match.group(1) == old_id:
                    renames[match.group(0)] = (
                        "TokenRequestForm" if new_id == "token" else f"{_camel(new_id)}Body"
                    )
            if "security" in operation:
                operation["security"] = [{OAUTH2: []}, {BEARER: []}]
            for parameter in operation.get("parameters", []):
                _describe_parameter(parameter)
            responses: Json = operation["responses"]
            for status in sorted(_error_statuses(route, method, operation)):
                responses[str(status)] = _error_response(status, responses.get(str(status)))
            for code, response in responses.items():
                if code.isdigit() and int(code) >= 400 and code not in responses:
                    responses[code] = _error_response(int(code), response)
            operation["responses"] = dict(sorted(responses.items()))
    _rename_schemas(spec, renames)

    security: Json = components.setdefault("securitySchemes", {})
    if OAUTH2 in security:
        security[OAUTH2]["description"] = (
            "Swagger UI's *Authorize*: the e-mail address as username, and the password."
        )
    if security:
        security[BEARER] = {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The `access_token` from `/api/v1/auth/login` or `/auth/token`.",
        }

    for unused in ("HTTPValidationError", "ValidationError"):
        if not any(node.get("$ref") == f"{SCHEMA_REF}{unused}" for node in _walk(spec["paths"])):
            schemas.pop(unused, None)
    _document_schemas(spec)
    examples = _Examples(spec)
    for path_item in spec["paths"].values():
        for operation in path_item.values():
            contents = [operation.get("requestBody", {}).get("content", {})]
            contents += [
                response.get("content", {}) for response in operation["responses"].values()
            ]
            for content in contents:
                for media in content.values():
                    if "example" not in media and "examples" not in media:
                        found, value = examples.of(media.get("schema", {}))
                        if found:
                            media["example"] = value
    components["schemas"] = dict(sorted(schemas.items()))
    return spec


def install_openapi(app: FastAPI) -> None:
    """Serve `build_openapi(app)` (built once, on the first request) at `/openapi.json`."""

    def openapi() -> Json:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
