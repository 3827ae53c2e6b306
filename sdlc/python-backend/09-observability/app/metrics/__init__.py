"""Prometheus metrics of step 09 (see `app.metrics.prometheus`)."""
