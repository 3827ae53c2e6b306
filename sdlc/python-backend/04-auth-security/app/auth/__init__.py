"""Authentication and authorization (step 04): users, JWT, refresh-token families, RBAC."""
