"""Step 10 without services: protocol, credentials, room rules, queues, settings."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from app.core.config import Environment
from app.websocket.auth import Principal, credentials
from app.websocket.config import WebSocketSettings
from app.websocket.connection import Connection, TokenBucket
from app.websocket.protocol import CloseCode, Join, SendMessage, Typing, client_frame
from app.websocket.rooms import can_join
from app.websocket.sessions import SessionKey


def principal(*roles: str) -> Principal:
    user_id = uuid.uuid4()
    session = SessionKey(user_id=user_id, version=0, session_id=uuid.uuid4())
    return Principal(user_id, "ann", frozenset(roles or ["user"]), datetime.now(UTC), session)


class SilentSocket:
    async def send_text(self, data: str) -> None:
        await asyncio.Event().wait()  # never writable

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        return None


def test_frames_are_a_discriminated_union() -> None:
    assert client_frame.validate_json('{"type": "join", "room": "room:a"}') == Join(
        type="join", room="room:a"
    )
    frame = client_frame.validate_json(
        '{"type": "message", "id": "abcdefgh", "room": "room:a", "body": "hi"}'
    )
    assert isinstance(frame, SendMessage)
    assert client_frame.validate_json('{"type": "typing", "room": "room:a"}') == Typing(
        type="typing", room="room:a", active=True
    )


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "join", "room": "lobby"}',  # no kind
        '{"type": "join", "room": "room:a b"}',
        '{"type": "message", "id": "short", "room": "room:a", "body": "x"}',  # id < 8
        '{"type": "message", "id": "abcdefgh", "room": "room:a", "body": ""}',
        '{"type": "message", "id": "abcdefgh", "room": "room:a", "body": "hi", "admin": true}',
        '{"type": "shout"}',
        "[]",
    ],
)
def test_malformed_frames_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        client_frame.validate_json(raw)


def test_body_is_bounded() -> None:
    frame = {"type": "message", "id": "abcdefgh", "room": "room:a", "body": "x" * 4001}
    with pytest.raises(ValidationError):
        client_frame.validate_python(frame)


def test_token_from_subprotocol_first_and_never_echoed() -> None:
    found = credentials("from-query", ["realtime.v1", "bearer.from-protocol"])
    assert (found.token, found.subprotocol) == ("from-protocol", "realtime.v1")
    assert credentials("from-query", []).token == "from-query"
    assert credentials(None, ["bearer."]).token is None
    assert credentials("", []).token is None


def test_room_rules() -> None:
    user, editor = principal("user"), principal("editor")
    assert can_join(user, "room:general")
    assert not can_join(user, "staff:news")
    assert can_join(editor, "staff:news")
    assert can_join(user, f"user:{user.user_id}")
    assert not can_join(editor, f"user:{user.user_id}")
    assert not can_join(user, "other:thing")


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=0.0001, burst=3)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


async def test_a_full_send_queue_closes_the_connection_instead_of_growing() -> None:
    connection = Connection(SilentSocket(), principal(), queue_size=4)
    sender = asyncio.create_task(connection.run_sender())
    assert connection.send("first")
    await asyncio.sleep(0.05)  # the sender took it and is stuck writing to the socket
    accepted = [connection.send(f"frame {i}") for i in range(10)]
    assert accepted == [True] * 4 + [False] * 6, accepted
    assert connection.closing
    assert connection.close_code == CloseCode.POLICY_VIOLATION
    assert connection.close_reason == "send queue full"
    assert connection.queued == 4
    sender.cancel()


def test_settings_refuse_inconsistent_or_unsafe_values() -> None:
    with pytest.raises(ValidationError, match="IDLE_TIMEOUT"):
        WebSocketSettings(_env_file=None, ws_heartbeat_seconds=30, ws_idle_timeout_seconds=10)
    with pytest.raises(ValidationError, match="WS_DEMO_ENABLED"):
        WebSocketSettings(_env_file=None, app_env=Environment.PRODUCTION, ws_demo_enabled=True)
    assert not WebSocketSettings(_env_file=None, app_env=Environment.PRODUCTION).demo
    assert WebSocketSettings(_env_file=None, app_env=Environment.DEVELOPMENT).demo
