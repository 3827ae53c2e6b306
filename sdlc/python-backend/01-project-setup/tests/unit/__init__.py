"""Fast tests without I/O."""
