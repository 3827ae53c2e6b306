"""Repository implementations (SQLAlchemy adapters of the domain ports)."""
