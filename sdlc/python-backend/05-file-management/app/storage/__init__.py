"""File management (step 05): validation, images, storage adapters, signed URLs, cleanup."""
