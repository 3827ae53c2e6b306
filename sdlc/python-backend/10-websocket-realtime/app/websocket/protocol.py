"""The real-time protocol, version 1: JSON text frames with a `type` discriminator.

Client → server: `join`, `leave`, `message`, `typing`, `ping`, `pong`, `auth`.
Server → client: `welcome`, `joined`, `left`, `presence`, `message`, `typing`, `ack`,
`ping`, `pong`, `authenticated`, `error`.

The version is part of the endpoint (`/ws/v1`): a v2 gets its own path and its own
models here, and v1 clients keep working while they are migrated.
"""

from datetime import datetime
from enum import IntEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

PROTOCOL_VERSION = 1
SUBPROTOCOL = f"realtime.v{PROTOCOL_VERSION}"
# A token offered as a subprotocol (`Sec-WebSocket-Protocol: realtime.v1, bearer.<jwt>`).
TOKEN_SUBPROTOCOL_PREFIX = "bearer."  # noqa: S105 - a prefix, not a secret


class CloseCode(IntEnum):
    """Close codes: RFC 6455 ones where they fit, 4000-4999 for this application."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the server shuts down: reconnect (to another instance)
    UNSUPPORTED_DATA = 1003  # a binary frame: this protocol is text (JSON) only
    POLICY_VIOLATION = 1008  # refused token, rate limit, slow consumer: see the reason
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    IDLE_TIMEOUT = 4000  # nothing received within WS_IDLE_TIMEOUT_SECONDS
    TOKEN_EXPIRED = 4001  # the access token expired: reconnect with a fresh one


# `room:<name>` any user, `staff:<name>` editors and admins, `user:<uuid>` one user.
RoomName = Annotated[
    str, StringConstraints(pattern=r"^(room|staff|user):[A-Za-z0-9_-]{1,64}$", max_length=70)
]
# Chosen by the client (e.g. crypto.randomUUID()); the key for acks and de-duplication.
MessageId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Body = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- client -> server ----------------------------------------------------------------


class Join(Frame):
    type: Literal["join"]
    room: RoomName


class Leave(Frame):
    type: Literal["leave"]
    room: RoomName


class SendMessage(Frame):
    type: Literal["message"]
    id: MessageId
    room: RoomName
    body: Body


class Typing(Frame):
    type: Literal["typing"]
    room: RoomName
    active: bool = True


class ClientPing(Frame):
    type: Literal["ping"]
    ts: float | None = None


class ClientPong(Frame):
    type: Literal["pong"]
    ts: float | None = None


class Authenticate(Frame):
    """A fresh access token before the current one expires (same user only)."""

    type: Literal["auth"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


ClientFrame = Annotated[
    Join | Leave | SendMessage | Typing | ClientPing | ClientPong | Authenticate,
    Field(discriminator="type"),
]
client_frame: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)  # type: ignore[arg-type, unused-ignore]


# --- server -> client ----------------------------------------------------------------


class Member(Frame):
    id: str
    name: str


class Welcome(Frame):
    type: Literal["welcome"] = "welcome"
    version: int = PROTOCOL_VERSION
    connection_id: str
    user: Member
    expires_at: datetime
    heartbeat_ms: int
    max_message_bytes: int


class Joined(Frame):
    type: Literal["joined"] = "joined"
    room: str
    members: list[Member]


class Left(Frame):
    type: Literal["left"] = "left"
    room: str


class Presence(Frame):
    type: Literal["presence"] = "presence"
    room: str
    event: Literal["join", "leave"]
    user: Member
    members: list[Member]


class Message(Frame):
    type: Literal["message"] = "message"
    id: str
    room: str
    body: str
    sender: Member
    ts: datetime


class TypingEvent(Frame):
    type: Literal["typing"] = "typing"
    room: str
    user: Member
    active: bool
    ttl_ms: int  # the indicator disappears by itself unless refreshed within this time


class Ack(Frame):
    type: Literal["ack"] = "ack"
    id: str
    duplicate: bool = False  # already relayed once: the re-sent copy was not relayed again


class ServerPing(Frame):
    type: Literal["ping"] = "ping"
    ts: float


class ServerPong(Frame):
    type: Literal["pong"] = "pong"
    ts: float | None = None


class Authenticated(Frame):
    type: Literal["authenticated"] = "authenticated"
    expires_at: datetime


class Error(Frame):
    type: Literal["error"] = "error"
    code: str
    detail: str
    id: str | None = None  # the message id the error is about, if any
    room: str | None = None


ServerFrame = Annotated[
    Welcome
    | Joined
    | Left
    | Presence
    | Message
    | TypingEvent
    | Ack
    | ServerPing
    | ServerPong
    | Authenticated
    | Error,
    Field(discriminator="type"),
]
server_frame: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)  # type: ignore[arg-type, unused-ignore]


def encode(frame: Frame) -> str:
    return frame.model_dump_json(exclude_none=True)
