"""Route guards: the one seam between generated routers and authorization.

Every generated router puts `Depends(require_writer)` on its write operations (POST,
PATCH, PUT, DELETE). Until authentication exists it allows every request; step 04
rewrites this file so `require_writer` demands a signed-in user with a writer role,
which protects every generated module (including ones added later) without editing them.
"""


async def require_writer() -> None:
    """Allow the request to write. No-op until authentication is installed (step 04)."""
