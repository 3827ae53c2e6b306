"""Project-wide test configuration added by step 04 (auth).

- Every test gets fast, fixed auth settings (`auth_config`), never the developer's
  `.env`; `@pytest.mark.auth_settings(key=value, ...)` changes them for one test.
- Tests of generated CRUD modules (steps 02/03, `wf apply 02`) test CRUD, not login:
  they get a stand-in for `require_writer`. Auth tests opt out with
  `@pytest.mark.real_auth` and prove that the real guard protects those same routes.
"""

import pytest

from app.api.guards import require_writer
from app.auth.config import AuthSettings
from app.extensions import auth as auth_extension
from tests.auth_support import auth_settings


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "auth_settings(**values): AuthSettings for this test")
    config.addinivalue_line("markers", "real_auth: no stand-in for require_writer")


@pytest.fixture(autouse=True)
def auth_config(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> AuthSettings:
    marker = request.node.get_closest_marker("auth_settings")
    config = auth_settings(**(marker.kwargs if marker else {}))
    monkeypatch.setattr(auth_extension, "get_auth_settings", lambda: config)
    return config


async def _stand_in_writer() -> None:
    """Lets CRUD tests write without a login (never used outside tests)."""


@pytest.fixture(autouse=True)
def _writer_stand_in(request: pytest.FixtureRequest, auth_config: AuthSettings) -> None:
    if request.node.get_closest_marker("real_auth") or "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    app.dependency_overrides[require_writer] = _stand_in_writer
