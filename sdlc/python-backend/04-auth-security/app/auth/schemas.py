"""Request and response bodies of the auth and user endpoints."""

from datetime import datetime
from typing import Annotated, ClassVar, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.domain.models.user import Role
from app.domain.query import FilterOp
from app.domain.schemas.common import (
    Email,
    FilterMap,
    ListParams,
    PageResponse,
    Text,
    UpdateSchema,
)

# Hard bounds for the schema; AuthSettings.password_min_length/max_length narrow them.
PASSWORD_MIN, PASSWORD_MAX = 8, 1024
EMAIL_MAX = 320

# Every string stored or looked up is `Text`/`Email` (step 02): PostgreSQL text cannot
# hold NUL, so it is refused here (422) instead of failing in the database (500).
Name = Annotated[Text, Field(min_length=1, max_length=255)]


class _Strict(BaseModel):
    # No whitespace stripping: a password is exactly what the user typed.
    model_config = ConfigDict(extra="forbid")


class Credentials(_Strict):
    email: Email = Field(max_length=EMAIL_MAX)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class RegisterRequest(Credentials):
    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
    full_name: Name | None = None


class RefreshRequest(_Strict):
    # Optional: with REFRESH_COOKIE_ENABLED the token may come from the cookie instead.
    refresh_token: str | None = Field(default=None, min_length=1, max_length=4096)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int  # seconds until the access token expires


class Accepted(BaseModel):
    detail: str


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    email: str
    full_name: str | None
    roles: list[str]
    is_active: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None


class MeUpdate(UpdateSchema):
    """Own profile. A new password needs the current one, and ends every other session."""

    model_config = ConfigDict(str_strip_whitespace=False)
    NOT_NULLABLE: ClassVar[tuple[str, ...]] = ("new_password",)

    full_name: Name | None = None
    current_password: str | None = Field(default=None, min_length=1, max_length=PASSWORD_MAX)
    new_password: str | None = Field(default=None, min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)

    @model_validator(mode="after")
    def _current_password_needed(self) -> Self:
        if self.new_password is not None and not self.current_password:
            msg = "current_password is required to set new_password"
            raise ValueError(msg)
        return self


class MeUpdated(BaseModel):
    user: UserRead
    # A fresh pair for this client when the password changed (all older sessions ended).
    tokens: TokenPair | None = None


class UserAdminUpdate(UpdateSchema):
    NOT_NULLABLE: ClassVar[tuple[str, ...]] = ("roles", "is_active")

    roles: list[Role] | None = Field(default=None, max_length=len(Role))
    is_active: bool | None = None


class UserPage(PageResponse[UserRead]):
    """One page of users plus the total count."""


class UserListParams(ListParams):
    SORTABLE: ClassVar[tuple[str, ...]] = ("created_at", "updated_at", "email")
    FILTERS: ClassVar[FilterMap] = {
        "email": ("email", FilterOp.CONTAINS),
        "is_active": ("is_active", FilterOp.EQ),
    }

    email: Text | None = Field(default=None, max_length=EMAIL_MAX)
    is_active: bool | None = None
