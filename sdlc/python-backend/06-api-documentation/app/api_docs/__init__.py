"""API documentation (step 06): the OpenAPI 3.1 document, docs UIs, versions, diffs.

`spec.build_openapi(app)` makes the document the app serves at `/openapi.json` and that
`python -m app.api_docs export` writes to `openapi/openapi.json`; `catalog` holds the
prose and examples; `ui` serves Swagger UI and ReDoc from files installed with the app;
`deprecation` marks superseded operations; `breaking` compares two documents.
"""
