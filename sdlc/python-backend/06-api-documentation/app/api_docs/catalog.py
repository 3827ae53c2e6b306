"""What the generated schema cannot know: prose, examples, and errors per operation.

The models of steps 02 and 04 carry no `Field(description=...)`; their documentation
lives here, keyed by property name (`"id"`) or by `"Schema.property"` for a meaning
that differs per model. New models should describe themselves with
`Field(description=..., examples=[...])`: what a model says wins over this table.
The lint (`tests/unit/api_docs/test_spec_lint.py`) fails for anything still missing.
"""

from dataclasses import dataclass
from typing import Any, Final

API_SUMMARY: Final = "Products, suppliers and users behind JWT authentication."

API_DESCRIPTION: Final = """\
REST API of the backend service. Every answer is JSON; every error is one shape.

## Authentication
Sign in with `POST /api/v1/auth/login` (JSON) or `POST /api/v1/auth/token` (OAuth2
password form, used by *Authorize* in Swagger UI) and send the access token as
`Authorization: Bearer <token>`. Access tokens live 15 minutes; exchange the refresh
token at `POST /api/v1/auth/refresh` and keep the **new** one (refresh tokens rotate).

## Errors
Every error is [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) Problem Details,
`application/problem+json`: `type`, `title`, `status`, `detail`, a stable `code` for
programs, and `errors` (each invalid field) on 422. `401` carries `WWW-Authenticate`,
`429` carries `Retry-After`.

## Versions
The major version is in the path (`/api/v1`, `/api/v2`). A version changes only in
ways that do not break clients; a breaking change gets a new version, and the old
operation is marked `deprecated` and answers with `Deprecation`, `Sunset` and
`Link: <...>; rel="successor-version"` headers until the sunset date.

## Pagination
Lists take `page` (from 1) and `size` (1-100) and answer the total count.
"""

CONTACT: Final = {
    "name": "Backend team",
    "email": "api@example.com",
    "url": "https://example.com/support",
}
LICENSE: Final = {"name": "Proprietary", "url": "https://example.com/license"}
TERMS_OF_SERVICE: Final = "https://example.com/terms"

# The first server is relative: Swagger UI's "Try it out" calls the server that serves
# the docs. The others tell a reader (and a client generator) where each environment is.
SERVERS: Final = [
    {"url": "/", "description": "The server that serves this document"},
    {"url": "http://127.0.0.1:8000", "description": "Development (make run)"},
    {"url": "https://staging-api.example.com", "description": "Staging"},
    {"url": "https://api.example.com", "description": "Production"},
]

# Tags in the order the docs show them. A tag used by a route and missing here takes
# the first line of its router module's docstring; the lint fails when neither exists.
TAGS: Final = {
    "auth": "Sign in, refresh and end sessions. Tokens are JWTs; refresh tokens rotate.",
    "users": "The signed-in user's profile; listing and managing users needs `admin`.",
    "products": "The product catalogue. Reading is public; writing needs `admin` or `editor`.",
    "suppliers": "Suppliers of products. Reading is public; writing needs `admin` or `editor`.",
    "files": "Uploads (type checked by content), signed download links. Needs a signed-in user.",
    "health": "Probes for orchestrators and load balancers.",
}


@dataclass(frozen=True)
class Doc:
    description: str
    example: Any = None
    has_example: bool = True


def doc(description: str, example: object = None) -> Doc:
    return Doc(description, example)


def text(description: str) -> Doc:
    """A description only: the property's example comes from its schema (a `$ref`)."""
    return Doc(description, has_example=False)


UUID_EXAMPLE: Final = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
SUPPLIER_UUID: Final = "9b2d6f4e-1c3a-4e5b-8f7a-2d1c0b9e8a76"
TIMESTAMP: Final = "2026-01-15T09:30:00Z"
JWT: Final = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIzZmE4NWY2NCJ9.c2lnbmF0dXJl"

# Meanings shared by every model that has the property.
FIELDS: Final[dict[str, Doc]] = {
    "id": doc("Identifier assigned by the server (UUID).", UUID_EXAMPLE),
    "created_at": doc("When the record was created (UTC).", TIMESTAMP),
    "updated_at": doc("When the record was last changed (UTC).", TIMESTAMP),
    "items": text("The records on this page, in the requested order."),
    "total": doc("Number of records matching the filters, on all pages.", 1),
    "page": doc("This page's number, from 1.", 1),
    "size": doc("Records per page (at most 100).", 20),
    "pages": doc("Number of pages for `total` records at this `size`.", 1),
    "email": doc("E-mail address; compared without regard to letter case.", "ana@example.com"),
    "password": doc(
        "The account's password (never returned by the API).", "correct horse battery staple"
    ),
    "full_name": doc("Display name.", "Ana Wijaya"),
    "is_active": doc("Inactive records are kept but not offered to clients.", True),
    "name": doc("Display name, unique enough for people to tell records apart.", "Desk lamp"),
    "description": doc("Free text shown to customers.", "LED desk lamp, 3 brightness levels"),
    "refresh_token": doc("Refresh token (JWT); valid once, then replaced by a new one.", JWT),
    "detail": doc("A message for people, not for programs.", "Done."),
}

# Meanings specific to one model (`"Schema.property"`).
SCHEMA_FIELDS: Final[dict[str, Doc]] = {
    # products (step 02)
    "ProductCreate.price": doc("Price as a decimal string (2 decimals), at least 0.", "19.90"),
    "ProductUpdate.price": doc("New price as a decimal string (2 decimals), at least 0.", "17.50"),
    "ProductRead.price": doc("Price as a decimal string with 2 decimals.", "19.90"),
    "ProductCreate.stock": doc("Units in stock, at least 0.", 3),
    "ProductUpdate.stock": doc("New number of units in stock, at least 0.", 5),
    "ProductRead.stock": doc("Units in stock.", 3),
    "ProductCreate.supplier_id": doc("The supplier of this product, if any.", None),
    "ProductUpdate.supplier_id": doc("The new supplier; `null` removes it.", None),
    "ProductRead.supplier_id": doc("The supplier of this product, if any.", SUPPLIER_UUID),
    # suppliers (step 02)
    "SupplierCreate.name": doc("The supplier's trading name.", "PT Sumber Makmur"),
    "SupplierUpdate.name": doc("The supplier's new trading name.", "PT Sumber Makmur Jaya"),
    "SupplierRead.name": doc("The supplier's trading name.", "PT Sumber Makmur"),
    "contact_email": doc("Where purchase orders are sent.", "orders@sumbermakmur.example"),
    "notes": doc("Internal notes for buyers.", "Delivers on weekdays only."),
    "lead_time_days": doc("Days between order and delivery (0-365).", 7),
    "min_order_value": doc("Smallest order accepted, as a decimal string (> 0).", "250000.00"),
    "is_preferred": doc("Buyers order from preferred suppliers first.", False),
    "contract_start": doc("First day of the current contract.", "2026-01-01"),
    "last_audit_at": doc("When the supplier was last audited (UTC).", TIMESTAMP),
    "erp_id": doc(
        "The supplier's identifier in the ERP system.", "6f1c2e9a-0b7d-4c3e-9a55-1f2e3d4c5b6a"
    ),
    "terms": doc("Contract terms as free-form JSON.", {"payment": "net-30"}),
    "rating": doc("Buyer rating from 0 to 5.", 4.5),
    "annual_volume": doc("Units bought per year.", 12000),
    # auth (step 04)
    "Credentials.password": doc("The account's password.", "correct horse battery staple"),
    "RegisterRequest.password": doc(
        "The new account's password (8 characters or more).", "correct horse battery staple"
    ),
    "MeUpdate.full_name": doc("New display name.", "Ana W."),
    "current_password": doc(
        "Required together with `new_password`.", "correct horse battery staple"
    ),
    "new_password": doc(
        "Replaces the password; every other session ends.", "another long passphrase"
    ),
    "access_token": doc("Access token (JWT) for `Authorization: Bearer`.", JWT),
    "token_type": doc("Always `bearer`.", "bearer"),
    "expires_in": doc("Seconds until the access token expires.", 900),
    "roles": doc("Roles granting permissions: `admin`, `editor`, `user`.", ["editor"]),
    "UserAdminUpdate.roles": doc("The user's new roles (replaces all).", ["editor"]),
    "UserAdminUpdate.is_active": doc("`false` disables the account and ends its sessions.", False),
    "last_login_at": doc("When the user last signed in (UTC).", TIMESTAMP),
    "MeUpdated.user": text("The profile after the change."),
    "MeUpdated.tokens": text("New tokens when the password changed (old ones are revoked)."),
    "grant_type": doc("OAuth2 grant type; only `password`.", "password"),
    "username": doc("The account's e-mail address (OAuth2 calls it username).", "ana@example.com"),
    "scope": doc("OAuth2 scopes; not used (roles decide).", ""),
    "client_id": doc("OAuth2 client id; not used.", None),
    "client_secret": doc("OAuth2 client secret; not used.", None),
    "Accepted.detail": doc(
        "What happens next.",
        "If this e-mail address was not registered yet, the account now exists. "
        "Sign in to continue.",
    ),
    "LivenessResponse.status": doc("Always `ok` while the process serves requests.", "ok"),
    # files (step 05)
    "FileRead.owner_id": doc("The user who uploaded the file.", UUID_EXAMPLE),
    "FileRead.purpose": doc("What the file is for: `image` or `document`.", "image"),
    "FileRead.name": doc("The uploaded file name, sanitised; for display only.", "receipt.png"),
    "FileRead.content_type": doc("The media type detected from the content.", "image/png"),
    "FileRead.size": doc("Size in bytes.", 48213),
    "FileRead.sha256": doc(
        "SHA-256 of the stored bytes (hex), once verified.",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ),
    "FileRead.status": doc("Processing state of the upload.", "ready"),
    "FileRead.width": doc("Image width in pixels; `null` for documents.", 1024),
    "FileRead.height": doc("Image height in pixels; `null` for documents.", 768),
    "FileRead.thumbnails": doc("Widths of the thumbnails that exist.", [256]),
    "FilePage.limit": doc("Records per page (1-100).", 20),
    "FilePage.offset": doc("Records skipped before this page.", 0),
    "DownloadLink.url": doc(
        "Short-lived URL that downloads the file.",
        "https://api.example.com/api/v1/files/content/ab/cd.png?expires=1767225600&signature=3q2-7w",
    ),
    "DownloadLink.expires_at": doc("When the URL stops working (UTC).", TIMESTAMP),
    "UploadFileBody.file": doc("The file (multipart field `file`).", "<binary>"),
    # errors (step 01)
    "Problem.type": doc("A URI for the problem type; `about:blank`: see `status`.", "about:blank"),
    "Problem.title": doc("The HTTP status phrase.", "Not Found"),
    "Problem.status": doc("The HTTP status code, repeated for convenience.", 404),
    "Problem.detail": doc(
        "What went wrong, for people.", "Product 3fa85f64-5717-4562-b3fc-2c963f66afa6 not found"
    ),
    "Problem.code": doc(
        "A stable code for programs (`not_found`, `validation_error`, ...).", "not_found"
    ),
    "Problem.errors": text("On 422: every invalid input."),
    "FieldError.loc": doc(
        "Where the input is: `body`, `query`, `path` and the field's path.", ["body", "price"]
    ),
    "FieldError.msg": doc("Why it is invalid.", "Input should be greater than or equal to 0"),
    "FieldError.type": doc("A stable error type.", "greater_than_equal"),
}

SCHEMAS: Final[dict[str, str]] = {
    "Accepted": "The request was accepted; `detail` says what follows.",
    "TokenRequestForm": "OAuth2 password grant (RFC 6749 §4.3), form-encoded.",
    "Credentials": "E-mail and password.",
    "LivenessResponse": "The process is alive.",
    "ProductCreate": "A new product.",
    "ProductRead": "A product.",
    "ProductUpdate": "Changes to a product; absent fields stay as they are.",
    "RefreshRequest": "The refresh token, unless it travels in the refresh cookie.",
    "RegisterRequest": "A new account.",
    "Role": "A role: `admin`, `editor` or `user`.",
    "SupplierCreate": "A new supplier.",
    "SupplierRead": "A supplier.",
    "SupplierUpdate": "Changes to a supplier; absent fields stay as they are.",
    "TokenPair": "An access token and the refresh token that renews it.",
    "UserAdminUpdate": "An administrator's changes to a user.",
    "UserRead": "A user account (never its password).",
    "MeUpdated": "The updated profile, and new tokens after a password change.",
    "Problem": "RFC 9457 Problem Details: the body of every error response.",
    "FieldError": "One invalid input.",
    "FileRead": "A stored file's metadata (never its bytes).",
    "FilePage": "A page of files, newest first.",
    "DownloadLink": "A signed, expiring download URL.",
    "UploadFileBody": "`multipart/form-data` with one file.",
}

# Query, path and header parameters, by name. Filters of generated modules follow the
# generator's naming (`<field>`, `<field>_min`, `<field>_max`) and are described by rule.
PARAMETERS: Final[dict[str, Doc]] = {
    "page": doc("Page number, from 1.", 1),
    "size": doc("Records per page, 1-100.", 20),
    "sort": doc("Comma-separated fields; prefix with `-` for descending.", "-created_at"),
    "product_id": doc("The product's id.", UUID_EXAMPLE),
    "supplier_id": doc("The supplier's id.", SUPPLIER_UUID),
    "user_id": doc("The user's id.", UUID_EXAMPLE),
    "q": doc("Text to search for.", "ana"),
    "role": doc("Only users holding this role.", "editor"),
    "email": doc("Only the user with this e-mail address.", "ana@example.com"),
    "limit": doc("Records per page, 1-100.", 20),
    "offset": doc("Records to skip.", 0),
    "file_id": doc("The file's id.", UUID_EXAMPLE),
    "key": doc("Storage key from a signed URL.", "ab/cd.png"),
    "expires": doc("Expiry of the signed URL (Unix time).", 1767225600),
    "signature": doc("Signature of the signed URL.", "3q2-7w"),
    "thumbnail": doc("Width of the thumbnail to link to, instead of the original.", 256),
    "purpose": doc("What the upload is for; decides the allowed types and size.", "image"),
}

# Errors a route raises that its signature does not show (by route function name).
# The rest are found from the route itself: see `spec._error_statuses`.
EXTRA_ERRORS: Final[dict[str, tuple[int, ...]]] = {
    "register": (429,),
    "token": (401, 429),
    "login": (401, 429),
    "refresh": (401, 429),
    "logout": (401,),
    "upload_file": (413, 415),
    "signed_content": (403,),
}

ERROR_EXAMPLES: Final[dict[int, dict[str, Any]]] = {
    400: {"code": "bad_request", "detail": "There was an error parsing the body"},
    401: {"code": "not_authenticated", "detail": "Not authenticated"},
    403: {"code": "forbidden", "detail": "Requires one of the roles: admin, editor"},
    404: {"code": "not_found", "detail": "Product 3fa85f64-5717-4562-b3fc-2c963f66afa6 not found"},
    409: {"code": "conflict", "detail": "A record with these values already exists"},
    413: {"code": "payload_too_large", "detail": "The request body is too large"},
    415: {"code": "unsupported_media_type", "detail": "This media type is not accepted"},
    422: {
        "code": "validation_error",
        "detail": "The request is invalid (1 error(s)); see `errors`.",
        "errors": [
            {
                "loc": ["body", "price"],
                "msg": "Input should be greater than or equal to 0",
                "type": "greater_than_equal",
            }
        ],
    },
    429: {"code": "rate_limited", "detail": "Too many requests; retry in 60 s"},
}

ERROR_DESCRIPTIONS: Final[dict[int, str]] = {
    400: "The body is not valid JSON (`bad_request`), or the query cannot be answered "
    "(`invalid_query`).",
    401: "No valid access token (or wrong credentials). See `WWW-Authenticate`.",
    403: "Signed in, but the account lacks the role this operation needs.",
    404: "No such resource.",
    409: "The change conflicts with existing data (a unique value, or a record still in use).",
    413: "The request body is larger than this operation accepts.",
    415: "The body's media type is not accepted here.",
    422: "The input is invalid; `errors` lists every invalid field.",
    429: "Too many attempts; retry after `Retry-After` seconds.",
}


def field_doc(schema: str, prop: str) -> Doc | None:
    """`Schema.property` first, then the property name alone (in either table)."""
    return SCHEMA_FIELDS.get(f"{schema}.{prop}") or SCHEMA_FIELDS.get(prop) or FIELDS.get(prop)
