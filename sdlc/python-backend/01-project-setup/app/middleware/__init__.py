"""Pure-ASGI middleware (security headers, correlation IDs, ... in later steps)."""
