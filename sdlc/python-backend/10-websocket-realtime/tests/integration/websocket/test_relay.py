"""Two real instances sharing one Redis: rooms, presence and messages span both."""

import asyncio
import time
import uuid

from sqlalchemy.engine import URL

from tests.integration.websocket.conftest import UserFactory
from tests.integration.websocket.support import AppServer, WsClient, kill_subscriber_connections


async def test_a_room_spans_two_instances(
    server: AppServer, second_server: AppServer, make_user: UserFactory, room: str
) -> None:
    _, alice_token = await make_user("alice")
    _, bob_token = await make_user("bob")
    alice = await WsClient.open(server.ws, alice_token)  # instance A
    bob = await WsClient.open(second_server.ws, bob_token)  # instance B
    await alice.join(room)
    joined = await bob.join(room)
    assert [member["name"] for member in joined["members"]] == ["alice", "bob"]  # presence: both
    presence = await alice.expect("presence", room=room, event="join")
    assert [member["name"] for member in presence["members"]] == ["alice", "bob"]

    mid = uuid.uuid4().hex
    await bob.send({"type": "message", "id": mid, "room": room, "body": "from B"})
    await bob.expect("ack", id=mid)
    assert (await alice.expect("message", id=mid))["body"] == "from B"
    mid = uuid.uuid4().hex
    await alice.send({"type": "message", "id": mid, "room": room, "body": "from A"})
    assert (await bob.expect("message", id=mid))["body"] == "from A"
    await bob.send({"type": "typing", "room": room})
    await alice.expect("typing", room=room, active=True)

    await bob.close()  # leaving on B is seen on A
    left = await alice.expect("presence", room=room, event="leave")
    assert [member["name"] for member in left["members"]] == ["alice"]
    await alice.close()


async def test_the_relay_survives_a_redis_reconnect(
    server: AppServer, second_server: AppServer, make_user: UserFactory, room: str
) -> None:
    _, alice_token = await make_user("alice")
    _, bob_token = await make_user("bob")
    alice = await WsClient.open(server.ws, alice_token)
    bob = await WsClient.open(second_server.ws, bob_token)
    await alice.join(room)
    await bob.join(room)
    # Redis drops both instances' subscriber connections (a failover, a restart...).
    assert await kill_subscriber_connections(server.pid) >= 1
    assert await kill_subscriber_connections(second_server.pid) >= 1
    # Each broker reconnects and subscribes again by itself, each in its own time: a
    # message flows from B to A once A has subscribed again, and from A to B once B has
    # - one direction working says nothing about the other, so both are waited for.
    await flows(bob, alice, room, "again")
    await flows(alice, bob, room, "and back")
    await alice.close()
    await bob.close()


async def flows(sender: WsClient, receiver: WsClient, room: str, body: str) -> None:
    """Send until one arrives (relayed messages before the re-subscribe are lost)."""
    async with asyncio.timeout(60):
        while True:
            mid = uuid.uuid4().hex
            await sender.send({"type": "message", "id": mid, "room": room, "body": body})
            try:
                assert (await receiver.expect("message", id=mid, within=1))["body"] == body
                return
            except TimeoutError:
                continue


async def test_shutdown_closes_every_socket_with_1001(
    database_url: URL, server_env: dict[str, str], make_user: UserFactory, room: str
) -> None:
    app_server = AppServer(database_url.render_as_string(hide_password=False), server_env)
    await app_server.start()
    _, token = await make_user("alice")
    clients = [await WsClient.open(app_server.ws, token) for _ in range(3)]
    for client in clients:
        await client.join(room)
    stopping = asyncio.create_task(app_server.stop())
    for client in clients:
        assert await client.closed() == (1001, "server shutting down")
    assert await stopping == 0, app_server.output()


async def test_presence_of_a_crashed_instance_expires(
    database_url: URL,
    server: AppServer,
    server_env: dict[str, str],
    make_user: UserFactory,
    room: str,
) -> None:
    _, alice_token = await make_user("alice")
    _, carol_token = await make_user("carol")
    doomed = await AppServer(database_url.render_as_string(hide_password=False), server_env).start()
    alice = await WsClient.open(server.ws, alice_token)
    await alice.join(room)
    carol = await WsClient.open(doomed.ws, carol_token)
    await carol.join(room)
    joined = await alice.expect("presence", room=room, event="join")
    assert [member["name"] for member in joined["members"]] == ["alice", "carol"]
    assert doomed.process is not None
    doomed.process.kill()  # SIGKILL: no leave, no cleanup - only the TTL
    await doomed.process.wait()
    killed = time.monotonic()
    # Joining again answers with the room's current members: carol's entry expires
    # (WS_PRESENCE_TTL_SECONDS=6 after its last refresh), alice's - older, but refreshed
    # by her live instance - does not. Asked until then rather than after a fixed sleep:
    # how soon after the kill the TTL runs out depends on when carol's entry was last
    # refreshed, not on this test's clock.
    async with asyncio.timeout(30):
        while True:
            present = await alice.join(room)
            names = [member["name"] for member in present["members"]]
            if names == ["alice"]:
                break
            assert names == ["alice", "carol"], present
            await asyncio.sleep(0.5)
    # Last refreshed at most 2 s (TTL/3) before the kill: gone no sooner than ~4 s after.
    assert time.monotonic() - killed > 2, "carol's entry vanished long before its TTL"
    await alice.close()
