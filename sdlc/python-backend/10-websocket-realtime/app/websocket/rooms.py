"""Who may join which room. One rule per room kind, no database lookup:

- `room:<name>`  - any authenticated user (public channels);
- `staff:<name>` - users with the `admin` or `editor` role;
- `user:<uuid>`  - only that user (a personal channel, e.g. for notifications).
"""

from app.domain.models.user import Role
from app.websocket.auth import Principal

STAFF_ROLES = (Role.ADMIN.value, Role.EDITOR.value)


def can_join(principal: Principal, room: str) -> bool:
    kind, _, name = room.partition(":")
    if kind == "room":
        return True
    if kind == "staff":
        return principal.has_role(*STAFF_ROLES)
    if kind == "user":
        return name == str(principal.user_id)
    return False
