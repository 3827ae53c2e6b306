"""Shared helpers with no business knowledge."""
