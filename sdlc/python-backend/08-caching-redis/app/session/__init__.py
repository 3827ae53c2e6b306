"""Server-side sessions in Redis for browser clients (step 08)."""
