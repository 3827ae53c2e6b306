"""The engine's contract with its callers: one list of services, light validation."""

from __future__ import annotations

import importlib

from runner.checks import SERVICE_KINDS, run_checks
from runner.checks._services import Services


def test_service_kinds_are_defined_once_and_each_has_a_backend(options):
    assert SERVICE_KINDS == ("postgres", "redis", "s3")
    services = Services({}, options.cache_dir)
    for kind in SERVICE_KINDS:
        assert importlib.import_module(f"runner.checks._{kind}").resolve
        assert kind in services._locks


def test_a_non_positive_timeout_from_an_api_caller_times_out_and_says_so(make_job, options):
    [result] = run_checks([make_job("echo never", timeout=0)], options)
    assert result.status == "timeout"
    assert "timed out after 0s" in result.reason
