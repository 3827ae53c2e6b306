"""Checks of the module generator: render many specs, then lint, type-check and test."""
