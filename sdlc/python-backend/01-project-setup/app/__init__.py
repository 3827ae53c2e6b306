"""Backend service built with FastAPI and Clean Architecture."""
