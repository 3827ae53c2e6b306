"""Who is in a room, across every instance: one Redis sorted set per room.

Each member entry is one connection (`{"c": connection id, "i": user id, "n": name}`)
scored with the time it expires. Its instance refreshes the score while the connection
lives and removes it when the connection ends; entries of an instance that crashed
simply expire. Readers drop expired entries and list each user once.
"""

import json
import time
from collections.abc import Iterable

from redis.asyncio import Redis

from app.websocket.protocol import Member


class PresenceStore:
    def __init__(self, redis: "Redis", *, prefix: str, ttl_seconds: float) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl_seconds

    def _key(self, room: str) -> str:
        return f"{self._prefix}:presence:{room}"

    @staticmethod
    def _entry(connection_id: str, member: Member) -> bytes:
        entry = {"c": connection_id, "i": member.id, "n": member.name}
        return json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()

    async def add(self, room: str, connection_id: str, member: Member) -> None:
        await self.refresh([(room, connection_id, member)])

    async def refresh(self, entries: Iterable[tuple[str, str, Member]]) -> None:
        expires = time.time() + self._ttl
        async with self._redis.pipeline(transaction=False) as pipe:
            for room, connection_id, member in entries:
                pipe.zadd(self._key(room), {self._entry(connection_id, member): expires})
                pipe.expire(self._key(room), int(self._ttl * 2) + 1)
            await pipe.execute()

    async def remove(self, room: str, connection_id: str, member: Member) -> None:
        await self._redis.zrem(self._key(room), self._entry(connection_id, member))

    async def members(self, room: str) -> list[Member]:
        key = self._key(room)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, "-inf", time.time())
            pipe.zrange(key, 0, -1)
            _, raw = await pipe.execute()
        users: dict[str, Member] = {}
        for item in raw:
            entry = json.loads(item)
            users[entry["i"]] = Member(id=entry["i"], name=entry["n"])
        return sorted(users.values(), key=lambda member: (member.name, member.id))


class MessageLog:
    """Ids of relayed messages (per sender), so a re-sent message is relayed only once."""

    def __init__(self, redis: "Redis", *, prefix: str, ttl_seconds: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl_seconds

    def _key(self, user_id: str, message_id: str) -> str:
        return f"{self._prefix}:msg:{user_id}:{message_id}"

    async def claim(self, user_id: str, message_id: str) -> bool:
        """True the first time this (sender, id) is seen within the TTL."""
        created = await self._redis.set(self._key(user_id, message_id), b"1", nx=True, ex=self._ttl)
        return bool(created)

    async def release(self, user_id: str, message_id: str) -> None:
        """Forget a claim whose relay failed, so the client's retry is relayed."""
        await self._redis.delete(self._key(user_id, message_id))
