"""Route guards: the seam between generated routers and authorization (step 04).

Step 02's generator puts `Depends(require_writer)` on every write operation (POST,
PATCH, PUT, DELETE) of every module, including modules added later with `wf apply 02`.
Step 04 replaces this file: writing now needs an active, signed-in user with the
`admin` or `editor` role — 401 without a valid token, 403 without the role.
"""

from app.auth.dependencies import ActiveUser, require_roles
from app.domain.models.user import Role, User

WRITER_ROLES = (Role.ADMIN, Role.EDITOR)

_writer = require_roles(*WRITER_ROLES)


async def require_writer(user: ActiveUser) -> User:
    return await _writer(user)
