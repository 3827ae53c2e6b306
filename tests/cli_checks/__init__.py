"""End-to-end tests of the CLI paths that run checks and use git."""
