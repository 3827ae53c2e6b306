"""The committed document is the app's own, whatever steps or modules it has.

The project's spec-drift check (`make test` and CI run it, with or without wf): a route,
model or catalog change without `python -m app.api_docs export > openapi/openapi.json`
fails here, naming the operations that changed.
"""

import json
from pathlib import Path

from app.api_docs import spec as api_spec
from app.api_docs.__main__ import current_spec, render_spec
from app.api_docs.breaking import compare, render

SPEC_PATH = Path(__file__).resolve().parents[3] / "openapi" / "openapi.json"
REGENERATE = "python -m app.api_docs export > openapi/openapi.json"


def test_the_committed_document_is_the_apps() -> None:
    committed = SPEC_PATH.read_text(encoding="utf-8")
    expected = render_spec(current_spec())
    if committed != expected:
        changes = render(compare(json.loads(committed), json.loads(expected)))
        message = f"{SPEC_PATH.name} is stale; run `{REGENERATE}`. Changes:\n{changes}"
        raise AssertionError(message)


def test_error_titles_do_not_depend_on_the_python_version() -> None:
    # Python 3.13 renamed 413/414/416/422 in `http.HTTPStatus`; the document uses
    # RFC 9110's phrases, so every interpreter derives the same bytes.
    titles: dict[int, str] = {}
    for item in current_spec()["paths"].values():
        for operation in item.values():
            for code, response in operation["responses"].items():
                media = response.get("content", {}).get("application/problem+json")
                if media is not None:
                    titles[int(code)] = media["example"]["title"]
    assert titles[422] == "Unprocessable Content"
    assert titles == {code: api_spec.REASON_PHRASES[code] for code in titles}
