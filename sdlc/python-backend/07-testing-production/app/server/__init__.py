"""Production server: Gunicorn as process manager, Uvicorn workers (step 07)."""
