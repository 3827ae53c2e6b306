"""Step 10 against real servers: auth before accept, rooms, acks, typing, limits."""

import asyncio
import contextlib
import json
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.exceptions import ConnectionClosed

from tests.integration.auth.helpers import AUTH, PASSWORD, bearer, login
from tests.integration.websocket.conftest import UserFactory
from tests.integration.websocket.support import (
    AppServer,
    StalledClient,
    WsClient,
    access_token,
    refused,
    session_of,
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
    live = session_of(token)
    # Before a logout-all (the session row itself is live: only the version is stale).
    revoked = access_token(user.id, version=user.token_version - 1, session_id=live)
    cases = {
        "missing": None,
        "garbage": "not-a-jwt",
        "expired": access_token(user.id, ttl=-60),
        "other key": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        "revoked": revoked,
        "disabled": disabled_token,
        "unknown user": access_token(uuid.uuid4()),
        "no such session": access_token(user.id),  # what a logged-out session looks like
        "another user's session": access_token(disabled.id, session_id=live),
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
    # Burst 1000, then 500/s. A fixed count (say 1500 at once) is no flood for a server
    # that reads slowly (a loaded machine): the bucket refills meanwhile. So batches at
    # far more than 500/s until the server closes - which it must, well before 100 000
    # frames. Between batches the client stops to see the close, like a client would,
    # instead of writing on into a socket that is closing (a reset, seen as 1006).
    with contextlib.suppress(ConnectionClosed):
        for _ in range(400):
            for _ in range(250):
                await client.connection.send('{"type":"pong"}')
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(client.connection.wait_closed()), 0.1)
                break
    code, reason = await client.closed()
    assert (code, reason) == (1008, "rate limit exceeded")


async def test_idle_connection_is_closed(server: AppServer, make_user: UserFactory) -> None:
    _, token = await make_user("idle")
    client = await WsClient.open(server.ws, token, answer_pings=False)
    await client.expect("ping", within=5)  # heartbeats every WS_HEARTBEAT_SECONDS
    code, reason = await client.closed(within=20)
    assert (code, reason) == (4000, "idle timeout")


async def test_token_expiry_ends_the_connection_unless_renewed(
    server: AppServer, make_user: UserFactory
) -> None:
    # 10 s: room for two handshakes and a renewal on a loaded machine before `exp`.
    user, token = await make_user("short", ttl=10)
    expiring = await WsClient.open(server.ws, token)
    renewed = await WsClient.open(server.ws, token)
    fresh = access_token(user.id, ttl=600, session_id=session_of(token))
    await renewed.send({"type": "auth", "token": fresh})
    await renewed.expect("authenticated")
    await renewed.send({"type": "auth", "token": access_token(uuid.uuid4())})
    assert (await renewed.expect("error"))["code"] == "invalid_token"  # another user
    code, reason = await expiring.closed(within=25)
    assert (code, reason) == (4001, "token expired")
    await renewed.send({"type": "ping"})
    await renewed.expect("pong")  # still open after the first token's expiry
    await renewed.close()


async def test_ended_sessions_lose_their_sockets(server: AppServer, make_user: UserFactory) -> None:
    """Logout, logout-all, a password change and deactivation, through step 04's API:
    each closes the sockets of the sessions it ended (1008) - and only those."""
    user, _ = await make_user("victim")
    admin, _ = await make_user("admin", "admin")
    revoked = (1008, "session revoked")
    async with httpx.AsyncClient(base_url=server.http, timeout=30) as http:

        async def new_session() -> tuple[dict[str, str], WsClient]:
            pair = await login(http, user.email)
            return pair, await WsClient.open(server.ws, pair["access_token"])

        async def still_open(client: WsClient) -> None:
            await client.send({"type": "ping", "ts": 1.0})
            await client.expect("pong")

        # Logout ends one session: its socket closes, the other session's stays.
        first, first_ws = await new_session()
        second, second_ws = await new_session()
        logout = {"refresh_token": first["refresh_token"]}
        assert (await http.post(f"{AUTH}/logout", json=logout)).status_code == 204
        assert await first_ws.closed(within=20) == revoked
        await still_open(second_ws)
        code, _, frames = await refused(server.ws, first["access_token"])
        assert (code, frames) == (1008, [])  # and its token opens no new socket

        # Logout-all ends every session of the user.
        _, third_ws = await new_session()
        response = await http.post(f"{AUTH}/logout-all", headers=bearer(second["access_token"]))
        assert response.status_code == 204
        for client in (second_ws, third_ws):
            assert await client.closed(within=20) == revoked

        # A password change ends every session but the new one it returns.
        changer, changer_ws = await new_session()
        _, other_ws = await new_session()
        change = {"current_password": PASSWORD, "new_password": "a brand new passphrase 42"}
        response = await http.patch(
            "/api/v1/users/me", json=change, headers=bearer(changer["access_token"])
        )
        assert response.status_code == 200, response.text
        for client in (changer_ws, other_ws):
            assert await client.closed(within=20) == revoked
        after_change = await WsClient.open(server.ws, response.json()["tokens"]["access_token"])
        await still_open(after_change)

        # Deactivation by an administrator ends the sessions that are left.
        admin_pair = await login(http, admin.email)
        response = await http.patch(
            f"/api/v1/users/{user.id}",
            json={"is_active": False},
            headers=bearer(admin_pair["access_token"]),
        )
        assert response.status_code == 200, response.text
        assert await after_change.closed(within=20) == revoked


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
