"""The breaking-change rules, one at a time, then on the app's real document."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from app.api_docs.__main__ import main
from app.api_docs.breaking import compare

Json = dict[str, Any]
SPEC_PATH = Path(__file__).resolve().parents[3] / "openapi" / "openapi.json"


def _spec(**operation: Any) -> Json:
    base: Json = {
        "operationId": "list_things",
        "parameters": [{"name": "page", "in": "query", "required": False}],
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "tag": {"type": "string"}},
                        "required": ["name"],
                    }
                }
            }
        },
        "responses": {
            "200": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
            }
        },
    }
    base.update(operation)
    return {
        "openapi": "3.1.0",
        "paths": {"/things": {"post": base}},
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "owner": {
                            "anyOf": [
                                {"type": "object", "properties": {"email": {"type": "string"}}},
                                {"type": "null"},
                            ]
                        },
                    },
                    "required": ["id"],
                }
            }
        },
    }


def _rules(old: Json, new: Json) -> list[tuple[bool, str]]:
    return [(change.breaking, change.rule) for change in compare(old, new)]


def test_identical_documents_have_no_changes() -> None:
    assert compare(_spec(), _spec()) == []


def test_removed_path_and_operation() -> None:
    old = _spec()
    new = copy.deepcopy(old)
    new["paths"]["/things"]["get"] = new["paths"]["/things"].pop("post")
    assert (True, "operation-removed") in _rules(old, new)
    assert (False, "operation-added") in _rules(old, new)
    assert _rules(old, {**old, "paths": {}}) == [(True, "path-removed")]


def test_renamed_operation_id_breaks_generated_clients() -> None:
    assert _rules(_spec(), _spec(operationId="things_list")) == [(True, "operation-id-changed")]


def test_new_required_parameter() -> None:
    required = [{"name": "page", "in": "query", "required": True}]
    assert _rules(_spec(), _spec(parameters=required)) == [(True, "parameter-required")]
    added = [*_spec()["paths"]["/things"]["post"]["parameters"], {"name": "q", "in": "query"}]
    assert _rules(_spec(), _spec(parameters=added)) == []  # optional: fine


def test_new_required_request_field() -> None:
    new = _spec()
    body = new["paths"]["/things"]["post"]["requestBody"]
    body["content"]["application/json"]["schema"]["required"] = ["name", "tag"]
    assert _rules(_spec(), new) == [(True, "request-property-required")]
    body["required"] = True
    assert (True, "request-body-required") in _rules(_spec(), new)


def test_removed_response_field_also_nested_and_behind_refs() -> None:
    new = _spec()
    del new["components"]["schemas"]["Thing"]["properties"]["owner"]["anyOf"][0]["properties"][
        "email"
    ]
    assert _rules(_spec(), new) == [(True, "response-property-removed")]
    gone = compare(_spec(), new)[0]
    assert gone.detail == "200 `owner.email`"
    new = _spec()
    new["components"]["schemas"]["Thing"]["properties"]["extra"] = {"type": "string"}
    assert _rules(_spec(), new) == [(False, "response-property-added")]


def test_removed_success_response() -> None:
    assert _rules(_spec(), _spec(responses={"201": {}})) == [(True, "response-removed")]


def test_cli_on_the_real_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(spec))
    assert main(["diff", str(old), str(old)]) == 0
    del spec["components"]["schemas"]["ProductRead"]["properties"]["price"]
    del spec["paths"]["/api/v1/users/me"]
    new.write_text(json.dumps(spec))
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "BREAKING  path-removed  /api/v1/users/me" in out
    assert "response-property-removed  GET /api/v1/products/{product_id}: 200 `price`" in out
    assert "response-property-removed  GET /api/v2/products: 200 `data[].price`" in out
