"""Lint of the committed OpenAPI document (`openapi/openapi.json`, derived by step 06).

Every rule here holds for any route any step adds: a route that breaks one fails with
its method, path and what is missing.
"""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]
from openapi_spec_validator import validate

SPEC_PATH = Path(__file__).resolve().parents[3] / "openapi" / "openapi.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
OPERATION_ID = re.compile(r"^[a-z][a-z0-9_]*$")
PROBLEM_REF = "#/components/schemas/Problem"

Json = dict[str, Any]


@pytest.fixture(scope="module")
def spec() -> Json:
    document: Json = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return document


def operations(spec: Json) -> Iterator[tuple[str, Json]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def test_is_valid_openapi_3_1(spec: Json) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec)  # raises with the JSON path of the first violation


def test_metadata_is_complete(spec: Json) -> None:
    info = spec["info"]
    for key in (
        "title",
        "summary",
        "description",
        "version",
        "contact",
        "license",
        "termsOfService",
    ):
        assert info.get(key), f"info.{key} is missing"
    assert "## Errors" in info["description"]  # Markdown, rendered by both UIs
    assert spec["servers"][0]["url"] == "/"
    assert all(server.get("description") for server in spec["servers"])


def test_every_operation_is_documented(spec: Json) -> None:
    problems: list[str] = []
    declared = {tag["name"]: tag.get("description") for tag in spec["tags"]}
    ids: dict[str, str] = {}
    for where, op in operations(spec):
        if not op.get("summary"):
            problems.append(f"{where}: no summary")
        if not op.get("tags"):
            problems.append(f"{where}: no tag")
        problems += [
            f"{where}: tag {tag!r} undeclared or undescribed"
            for tag in op.get("tags", [])
            if not declared.get(tag)
        ]
        operation_id = op.get("operationId", "")
        if not OPERATION_ID.match(operation_id):
            problems.append(f"{where}: operationId {operation_id!r} is not snake_case")
        if operation_id in ids:
            problems.append(
                f"{where}: operationId {operation_id!r} also used by {ids[operation_id]}"
            )
        ids[operation_id] = where
        responses: Json = op["responses"]
        errors = {code: r for code, r in responses.items() if code[0] == "4"}
        has_input = bool(op.get("parameters")) or "requestBody" in op
        if has_input and "422" not in errors:
            problems.append(f"{where}: takes input but documents no 422")
        if op.get("security") and "401" not in errors:
            problems.append(f"{where}: needs a token but documents no 401")
        if (has_input or op.get("security")) and not errors:
            problems.append(f"{where}: no error response documented")
        for code, response in errors.items():
            media = response.get("content", {}).get("application/problem+json")
            if not media or media["schema"].get("$ref") != PROBLEM_REF:
                problems.append(f"{where}: {code} is not application/problem+json Problem")
            elif media.get("example", {}).get("status") != int(code):
                problems.append(f"{where}: {code} has no matching example")
        examples = 0
        for response in responses.values():
            for media in response.get("content", {}).values():
                examples += "example" in media or "examples" in media
        for media in op.get("requestBody", {}).get("content", {}).values():
            if "example" not in media and "examples" not in media:
                problems.append(f"{where}: request body without example")
        if not examples:
            problems.append(f"{where}: no example at all")
        for parameter in op.get("parameters", []):
            if not parameter.get("description"):
                problems.append(f"{where}: parameter {parameter['name']!r} without description")
    assert not problems, "\n".join(problems)


def test_tags_are_declared_in_order(spec: Json) -> None:
    names = [tag["name"] for tag in spec["tags"]]
    used = {tag for _, op in operations(spec) for tag in op["tags"]}
    assert set(names) == used  # no tag without operations, none missing
    assert names[:2] == ["auth", "users"]


def test_every_schema_property_is_described_with_an_example(spec: Json) -> None:
    problems: list[str] = []
    for name, schema in spec["components"]["schemas"].items():
        if not schema.get("description"):
            problems.append(f"{name}: no description")
        if "properties" in schema and not schema.get("examples"):
            problems.append(f"{name}: no example")
        for prop_name, prop in schema.get("properties", {}).items():
            if not prop.get("description"):
                problems.append(f"{name}.{prop_name}: no description")
    assert not problems, "\n".join(problems)


def test_examples_match_their_schemas(spec: Json) -> None:
    def check(schema: Json, instance: Any, where: str) -> list[str]:
        validator = Draft202012Validator(
            {**schema, "components": spec["components"]}, format_checker=FormatChecker()
        )
        return [f"{where}: {error.message}" for error in validator.iter_errors(instance)]

    problems: list[str] = []
    for name, schema in spec["components"]["schemas"].items():
        for example in schema.get("examples", []):
            problems += check({"$ref": f"#/components/schemas/{name}"}, example, name)
        # a catalog example keyed by property name must fit every model that has it
        for prop_name, prop in schema.get("properties", {}).items():
            for example in prop.get("examples", []):
                problems += check(prop, example, f"{name}.{prop_name}")
    for where, op in operations(spec):
        bodies = [("request", op.get("requestBody", {}))]
        bodies += [(code, response) for code, response in op["responses"].items()]
        for label, holder in bodies:
            for media_type, media in holder.get("content", {}).items():
                if "example" in media:
                    problems += check(
                        media["schema"], media["example"], f"{where} {label} {media_type}"
                    )
    assert not problems, "\n".join(problems)


def test_security_schemes_offer_bearer_and_the_password_flow(spec: Json) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["BearerJWT"] == {**schemes["BearerJWT"], "type": "http", "scheme": "bearer"}
    password_flow = schemes["OAuth2PasswordBearer"]["flows"]["password"]
    assert password_flow["tokenUrl"] == "/api/v1/auth/token"
    secured = [op for _, op in operations(spec) if op.get("security")]
    assert secured
    either: list[dict[str, list[str]]] = [{"OAuth2PasswordBearer": []}, {"BearerJWT": []}]
    assert all(op["security"] == either for op in secured)


def test_the_deprecated_operation_says_so(spec: Json) -> None:
    v1 = spec["paths"]["/api/v1/products"]["get"]
    assert v1["deprecated"] is True
    assert {"Deprecation", "Sunset", "Link"} <= set(v1["responses"]["200"]["headers"])
    assert "/api/v2/products" in v1["description"]
    v2 = spec["paths"]["/api/v2/products"]["get"]
    assert not v2.get("deprecated")
    assert v2["operationId"] == "list_products_v2"
