"""Domain layer: entities, schemas, repository ports and domain errors.

Nothing in here imports from `app.api`, `app.service` or `app.repository`.
"""
