"""Pydantic v2 request/response schemas (the API's data contract)."""
