"""Tests against a real PostgreSQL server (marked `integration`)."""
