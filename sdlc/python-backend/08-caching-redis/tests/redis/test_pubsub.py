"""`Broker`: delivery between two clients, reconnect with re-subscription, clean close."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from app.cache.client import create_redis
from app.cache.config import RedisSettings
from app.cache.pubsub import Broker
from tests.redis_support import RedisServer, redis_settings


async def wait_subscribed(redis: Redis, channel: str, count: int = 1) -> None:
    """Until `count` connections subscribe to `channel` (SUBSCRIBE is asynchronous)."""
    async with asyncio.timeout(10):
        while True:
            [(_, subscribers)] = await redis.pubsub_numsub(channel)
            if subscribers >= count:
                return
            await asyncio.sleep(0.02)


async def collect(broker: Broker, into: asyncio.Queue[tuple[str, bytes]]) -> None:
    async for item in broker.messages():
        await into.put(item)


@pytest.fixture
async def pair(redis: Redis, redis_config: RedisSettings) -> AsyncIterator[tuple[Broker, Broker]]:
    """Two brokers on two clients (two pools): two processes, as far as Redis can tell."""
    second_client = create_redis(redis_config)
    first, second = Broker(redis), Broker(second_client)
    yield first, second
    await first.aclose()
    await second.aclose()
    await second_client.aclose()


async def test_a_message_reaches_the_other_client_and_only_its_channel(
    pair: tuple[Broker, Broker], redis: Redis
) -> None:
    subscriber, publisher = pair
    room, other_room = f"room:{uuid.uuid4().hex}", f"room:{uuid.uuid4().hex}"
    received: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    consumer = asyncio.create_task(collect(subscriber, received))
    await subscriber.subscribe(room)
    await wait_subscribed(redis, room)

    assert await publisher.publish(other_room, b"not for you") == 0
    assert await publisher.publish(room, b"hello \x00 bytes") == 1
    async with asyncio.timeout(5):
        assert await received.get() == (room, b"hello \x00 bytes")

    await subscriber.unsubscribe(room)
    assert await publisher.publish(room, b"after unsubscribe") == 0
    await subscriber.aclose()
    async with asyncio.timeout(5):
        await consumer  # aclose() ends messages()
    assert received.empty()


async def test_reconnects_and_resubscribes_after_redis_restarts(
    redis_server: RedisServer,
) -> None:
    client = create_redis(redis_settings(redis_server.url))
    broker = Broker(client, min_backoff=0.05, max_backoff=0.2)
    received: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    consumer = asyncio.create_task(collect(broker, received))
    try:
        await broker.subscribe("news")
        await wait_subscribed(client, "news")
        await client.publish("news", b"before")
        async with asyncio.timeout(5):
            assert await received.get() == ("news", b"before")

        redis_server.stop()
        await asyncio.sleep(0.5)  # the consumer sees the loss and starts retrying
        assert not consumer.done()
        redis_server.start()  # same port, empty server: nobody is subscribed there

        await wait_subscribed(client, "news")  # the broker subscribed again by itself
        await client.publish("news", b"after")
        async with asyncio.timeout(5):
            assert await received.get() == ("news", b"after")
        assert broker.reconnects >= 1
    finally:
        await broker.aclose()
        async with asyncio.timeout(5):
            await consumer
        await client.aclose()


async def test_subscribe_while_redis_is_down_takes_effect_when_it_is_back(
    redis_server: RedisServer,
) -> None:
    client = create_redis(redis_settings(redis_server.url))
    broker = Broker(client, min_backoff=0.05, max_backoff=0.2)
    received: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    redis_server.stop()
    consumer = asyncio.create_task(collect(broker, received))
    try:
        await broker.subscribe("late")  # logs and returns; no exception to the caller
        assert broker.channels == {"late"}
        redis_server.start()
        await wait_subscribed(client, "late")
        await client.publish("late", b"x")
        async with asyncio.timeout(5):
            assert await received.get() == ("late", b"x")
    finally:
        await broker.aclose()
        async with asyncio.timeout(5):
            await consumer
        await client.aclose()
