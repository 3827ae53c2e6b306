"""Services (use cases): business rules, transaction boundaries."""
