"""One module per resource, each exposing `router: APIRouter` (discovered automatically)."""
