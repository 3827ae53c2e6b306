"""Health probes of step 09: liveness (step 01), readiness and startup."""
