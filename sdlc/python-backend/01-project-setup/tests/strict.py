"""Settings values a staging/production configuration needs, for tests.

A step that adds a required secret to `Settings` appends its test value here (step 03:
the database URL), so the earlier steps' tests keep building valid strict settings.
"""

from typing import Any

STRICT_VALUES: dict[str, Any] = {"secret_key": "k" * 48}
