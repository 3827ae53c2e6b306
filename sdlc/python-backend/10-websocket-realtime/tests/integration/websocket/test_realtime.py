"""Step 10 against real servers: auth before accept, rooms, acks, typing, limits."""

import asyncio
import json
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.integration.websocket.conftest import UserFactory
from tests.integration.websocket.support import (
    AppServer,
    StalledClient,
    WsClient,
    access_token,
    refused,
)


def message_id() -> str:
    return uuid.uuid4().hex


async def test_refused_before_accept_with_1008(
    server: AppServer, make_user: UserFactory, session: AsyncSession
) -> None:
    user, token = await make_user("mallory")
    disabled, disabled_token = await make_user("disabled")
    disabled.is_active = False
    await session.commit()
    revoked = access_token(user.id, version=user.token_version - 1)  # before a logout-all
    cases = {
        "missing": None,
        "garbage": "not-a-jwt",
        "expired": access_token(user.id, ttl=-60),
        "other key": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        "revoked": revoked,
        "disabled": disabled_token,
        "unknown user": access_token(uuid.uuid4()),
    }
    for case, bad in cases.items():
        code, reason, frames = await refused(server.ws, bad)
        assert code == 1008, (case, code, reason)
        assert frames == [], (case, frames)  # not even a welcome: nothing was served
    async with asyncio.timeout(10):
        good = await WsClient.open(server.ws, token)
    assert good.welcome
    assert good.welcome["user"]["name"] == "mallory"
    await good.close()


async def test_token_in_subprotocol_not_in_url(server: AppServer, make_user: UserFactory) -> None:
    _, token = await make_user("alice")
    client = await WsClient.open(server.ws, None, subprotocols=["realtime.v1", f"bearer.{token}"])
    assert client.connection.subprotocol == "realtime.v1"  # never the token
    await client.close()


async def test_join_broadcast_ack_presence_leave(
    server: AppServer, make_user: UserFactory, room: str
) -> None:
    _, alice_token = await make_user("alice")
    _, bob_token = await make_user("bob")
    alice = await WsClient.open(server.ws, alice_token)
    bob = await WsClient.open(server.ws, bob_token)
    await alice.join(room)
    joined = await bob.join(room)
    assert [member["name"] for member in joined["members"]] == ["alice", "bob"]
    presence = await alice.expect("presence", room=room, event="join")
    assert presence["user"]["name"] == "bob"

    mid = message_id()
    await bob.send({"type": "message", "id": mid, "room": room, "body": "hello"})
    await bob.expect("ack", id=mid, duplicate=False)
    received = await alice.expect("message", id=mid)
    assert received["body"] == "hello"
    assert received["sender"]["name"] == "bob"
    await bob.no_frame("message", wait=0.5)  # the sender got an ack, not an echo

    await bob.send({"type": "leave", "room": room})
    await bob.expect("left", room=room)
    left = await alice.expect("presence", room=room, event="leave")
    assert [member["name"] for member in left["members"]] == ["alice"]
    await bob.send({"type": "message", "id": message_id(), "room": room, "body": "late"})
    assert (await bob.expect("error"))["code"] == "not_joined"
    await alice.no_frame("message", wait=0.5)

    # A connection that just drops is removed from its rooms as well.
    await bob.join(room)
    await alice.expect("presence", room=room, event="join")
    bob.connection.transport.abort()
    gone = await alice.expect("presence", room=room, event="leave")
    assert [member["name"] for member in gone["members"]] == ["alice"]
    await alice.close()


async def test_rooms_are_authorised(server: AppServer, make_user: UserFactory) -> None:
    user, token = await make_user("user")
    _, editor_token = await make_user("editor", "editor")
    client = await WsClient.open(server.ws, token)
    for room in ("staff:news", f"user:{uuid.uuid4()}"):
        await client.send({"type": "join", "room": room})
        error = await client.expect("error", room=room)
        assert error["code"] == "forbidden", error
    assert (await client.join(f"user:{user.id}"))["members"][0]["id"] == str(user.id)
    await client.send({"type": "join", "room": "lobby"})  # no kind: not a room name
    assert (await client.expect("error"))["code"] == "invalid_frame"
    editor = await WsClient.open(server.ws, editor_token)
    await editor.join("staff:news")
    for name in ("a", "b"):  # WS_MAX_ROOMS=3 with staff:news
        await editor.join(f"room:{name}")
    await editor.send({"type": "join", "room": "room:c"})
    assert (await editor.expect("error", room="room:c"))["code"] == "too_many_rooms"
    await client.close()
    await editor.close()


async def test_resent_message_is_relayed_once(
    server: AppServer, make_user: UserFactory, room: str
) -> None:
    _, alice_token = await make_user("alice")
    _, bob_token = await make_user("bob")
    alice = await WsClient.open(server.ws, alice_token)
    bob = await WsClient.open(server.ws, bob_token)
    await alice.join(room)
    await bob.join(room)
    mid = message_id()
    frame = {"type": "message", "id": mid, "room": room, "body": "once"}
    await bob.send(frame)
    await bob.expect("ack", id=mid, duplicate=False)
    await bob.close()
    # The ack was lost, say: the client reconnects and sends the same id again.
    bob = await WsClient.open(server.ws, bob_token)
    await bob.join(room)
    await bob.send(frame)
    await bob.expect("ack", id=mid, duplicate=True)
    await alice.expect("message", id=mid)
    await alice.no_frame("message", wait=1.0, id=mid)
    await alice.close()
    await bob.close()


async def test_typing_reaches_others_throttled(
    server: AppServer, make_user: UserFactory, room: str
) -> None:
    _, alice_token = await make_user("alice")
    _, bob_token = await make_user("bob")
    alice = await WsClient.open(server.ws, alice_token)
    bob = await WsClient.open(server.ws, bob_token)
    await alice.join(room)
    await bob.join(room)
    await bob.send({"type": "typing", "room": room})
    typing = await alice.expect("typing", room=room, active=True)
    assert typing["user"]["name"] == "bob"
    assert typing["ttl_ms"] == 2000  # the indicator expires by itself
    for _ in range(5):  # within WS_TYPING_THROTTLE_SECONDS: not relayed again
        await bob.send({"type": "typing", "room": room})
    await alice.no_frame("typing", wait=0.6, active=True)
    await bob.send({"type": "typing", "room": room, "active": False})
    await alice.expect("typing", room=room, active=False)
    await bob.no_frame("typing", wait=0.3)  # never back to the typist
    await alice.close()
    await bob.close()


async def test_frame_limits_close_1009_and_1003(server: AppServer, make_user: UserFactory) -> None:
    _, token = await make_user("big")
    client = await WsClient.open(server.ws, token)
    await client.send({"type": "ping", "padding": "x" * 20_001})  # WS_MAX_MESSAGE_BYTES=20000
    assert (await client.closed())[0] == 1009
    client = await WsClient.open(server.ws, token)
    await client.connection.send(b"\x00\x01")
    assert (await client.closed())[0] == 1003


async def test_invalid_frames_get_an_error_and_the_connection_stays(
    server: AppServer, make_user: UserFactory
) -> None:
    _, token = await make_user("sloppy")
    client = await WsClient.open(server.ws, token)
    for raw in ("{", "[]", json.dumps({"type": "shout"}), json.dumps({"type": "ping", "x": 1})):
        await client.connection.send(raw)
        assert (await client.expect("error"))["code"] == "invalid_frame", raw
    await client.send({"type": "ping", "ts": 1.5})
    assert (await client.expect("pong"))["ts"] == 1.5
    await client.close()


async def test_flooding_closes_1008(server: AppServer, make_user: UserFactory) -> None:
    _, token = await make_user("flood")
    client = await WsClient.open(server.ws, token)
    for _ in range(1500):  # burst 1000, 500/s
        await client.connection.send('{"type":"pong"}')
    code, reason = await client.closed()
    assert (code, reason) == (1008, "rate limit exceeded")


async def test_idle_connection_is_closed(server: AppServer, make_user: UserFactory) -> None:
    _, token = await make_user("idle")
    client = await WsClient.open(server.ws, token, answer_pings=False)
    await client.expect("ping", within=5)  # heartbeats every WS_HEARTBEAT_SECONDS
    code, reason = await client.closed(within=10)
    assert (code, reason) == (4000, "idle timeout")


async def test_token_expiry_ends_the_connection_unless_renewed(
    server: AppServer, make_user: UserFactory
) -> None:
    user, token = await make_user("short", ttl=6)
    expiring = await WsClient.open(server.ws, token)
    renewed = await WsClient.open(server.ws, token)
    await renewed.send({"type": "auth", "token": access_token(user.id, ttl=600)})
    await renewed.expect("authenticated")
    await renewed.send({"type": "auth", "token": access_token(uuid.uuid4())})
    assert (await renewed.expect("error"))["code"] == "invalid_token"  # another user
    code, reason = await expiring.closed(within=15)
    assert (code, reason) == (4001, "token expired")
    await renewed.send({"type": "ping"})
    await renewed.expect("pong")  # still open after the first token's expiry
    await renewed.close()


async def test_slow_consumer_is_dropped_and_memory_stays_bounded(
    server: AppServer, make_user: UserFactory, room: str
) -> None:
    _, slow_token = await make_user("slow")
    _, fast_token = await make_user("fast")
    _, watcher_token = await make_user("watcher")
    fast = await WsClient.open(server.ws, fast_token)  # never receives its own messages
    await fast.join(room)
    slow = await asyncio.to_thread(StalledClient, server.port, slow_token)
    slow.send({"type": "join", "room": room})
    await fast.expect("presence", room=room, event="join")
    before = server.rss_kib()

    body = "\N{GRINNING FACE}" * 4000  # the longest body, 16 KB of UTF-8
    for sent in range(1, 3001):
        mid = message_id()
        await fast.send({"type": "message", "id": mid, "room": room, "body": body})
        if sent % 8 == 0:  # keep pace with the server (and below WS_RATE_PER_SECOND)
            slow.send({"type": "pong"})  # slow at reading, not silent: never idle
            await fast.expect("ack", id=mid, within=30)
            if any(f["type"] == "presence" and f["event"] == "leave" for f in fast.frames):
                break
    left = await fast.expect("presence", room=room, event="leave", within=20)
    assert left["user"]["name"] == "slow", left
    grown = server.rss_kib() - before
    assert grown < 32 * 1024, f"RSS grew {grown} KiB; dropped after {sent} messages"
    assert "send queue full" in server.output()
    # The room goes on without it.
    watcher = await WsClient.open(server.ws, watcher_token)
    await watcher.join(room)
    await fast.send({"type": "message", "id": (last := message_id()), "room": room, "body": "go"})
    await watcher.expect("message", id=last)
    # And the stalled client's connection really ends once it reads what was buffered.
    assert await asyncio.to_thread(slow.drain_until_closed, 20)
    slow.close()
    await watcher.close()
    await fast.close()


async def test_demo_page_and_client_are_served_with_their_own_csp(server: AppServer) -> None:
    async with httpx.AsyncClient(base_url=server.http) as http:
        page = await http.get("/ws/demo")
        assert page.status_code == 200
        assert '<script type="module" src="/ws/static/demo.js">' in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe" not in csp
        client = await http.get("/ws/static/realtime-client.js")
        assert client.headers["content-type"].startswith("text/javascript")
        assert "export class RealtimeClient" in client.text
        for path in ("/ws/static/router.py", "/ws/static/..%2Frouter.py", "/ws/static/x.js"):
            assert (await http.get(path)).status_code == 404, path
