"""Settings of the API documentation (step 06), read from the environment."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiDocsSettings(BaseSettings):
    """`API_DOCS_ENABLED=false` hides `/docs`, `/redoc` and `/openapi.json` everywhere.

    Production never publishes them (step 01's `create_app`): this switch can only turn
    the documentation off, never on in production.
    """

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    api_docs_enabled: bool = True


@lru_cache
def get_api_docs_settings() -> ApiDocsSettings:
    return ApiDocsSettings()
