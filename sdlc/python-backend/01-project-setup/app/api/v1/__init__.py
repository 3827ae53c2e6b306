"""Version 1 of the public API, mounted under `settings.api_v1_prefix`."""
