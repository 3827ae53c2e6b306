"""Redis-backed infrastructure (step 08): client settings, cache, pub/sub, locks."""
