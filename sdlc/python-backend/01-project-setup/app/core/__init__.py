"""Cross-cutting infrastructure: configuration, logging, database."""
