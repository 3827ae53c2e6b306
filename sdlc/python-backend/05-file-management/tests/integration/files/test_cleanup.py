"""Cleanup with the local backend: orphans, vanished objects, dead uploads, dry run,
and uploads running at the same time as cleanup."""

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import Database
from app.domain.models.stored_file import StoredFile
from app.storage.cleanup import cleanup
from app.storage.config import StorageSettings
from app.storage.service import StorageComponents, original_key
from tests.file_samples import image_bytes, pdf_bytes

FILES = "/api/v1/files"


def components(client: AsyncClient) -> StorageComponents:
    storage: StorageComponents = client._transport.app.state.storage  # type: ignore[attr-defined]
    return storage


async def test_cleanup_finds_orphans_vanished_rows_and_dead_uploads(
    client: AsyncClient,
    owner: dict[str, str],
    session: AsyncSession,
    database: Database,
    storage_config: StorageSettings,
) -> None:
    root = storage_config.storage_local_root
    keep = (
        await client.post(
            FILES,
            params={"purpose": "image"},
            files={"file": ("a.png", image_bytes("PNG"))},
            headers=owner,
        )
    ).json()
    lost = (
        await client.post(
            FILES,
            params={"purpose": "document"},
            files={"file": ("b.pdf", pdf_bytes())},
            headers=owner,
        )
    ).json()
    dead = (
        await client.post(
            FILES,
            params={"purpose": "document"},
            files={"file": ("c.pdf", pdf_bytes())},
            headers=owner,
        )
    ).json()

    orphan = root / original_key(uuid.uuid4())  # an object no row knows
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left behind")
    (root / original_key(uuid.UUID(lost["id"]))).unlink()  # its object vanished
    # An upload that died an hour ago: its row still says pending.
    hour_ago = datetime.now(UTC) - timedelta(seconds=storage_config.upload_pending_ttl_seconds + 60)
    await session.execute(
        update(StoredFile)
        .where(StoredFile.id == uuid.UUID(dead["id"]))
        .values(status="pending", created_at=hour_ago)
    )
    await session.commit()
    stale_part = root / ".incoming" / "abandoned"
    stale_part.parent.mkdir(exist_ok=True)
    stale_part.write_bytes(b"half an upload")
    old = time.time() - storage_config.upload_pending_ttl_seconds - 60
    os.utime(stale_part, (old, old))

    backend = components(client).backend
    report = await cleanup(database, backend, storage_config, dry_run=True)
    assert report.orphaned_objects == [orphan.relative_to(root).as_posix()]
    assert report.vanished_rows == [lost["id"]]
    assert report.expired_uploads == [dead["id"]]
    assert report.aborted_parts == ["abandoned"]
    assert orphan.exists()  # dry run: nothing deleted
    assert stale_part.exists()

    await cleanup(database, backend, storage_config)
    assert not orphan.exists()
    assert not stale_part.exists()
    session.expire_all()
    ids = {str(file_id) for file_id in await session.scalars(select(StoredFile.id))}
    assert ids == {keep["id"]}
    assert not (root / original_key(uuid.UUID(dead["id"]))).exists()
    assert (root / original_key(uuid.UUID(keep["id"]))).exists()
    for edge in (64, 128):  # the thumbnails of the kept image are not orphans
        assert (root / f"files/{uuid.UUID(keep['id']).hex}/thumb-{edge}.webp").exists()

    again = await cleanup(database, backend, storage_config)
    assert again.orphaned_objects == again.vanished_rows == again.expired_uploads == []


async def test_cleanup_running_during_uploads_deletes_none_of_them(
    client: AsyncClient,
    owner: dict[str, str],
    database: Database,
    storage_config: StorageSettings,
) -> None:
    # Grace 0 (see conftest): only the row-first protocol protects uploads in flight.
    backend = components(client).backend
    done = False

    async def uploads() -> list[str]:
        nonlocal done
        ids = []
        for index in range(12):
            response = await client.post(
                FILES,
                params={"purpose": "image"},
                files={"file": (f"{index}.png", image_bytes("PNG", size=(400, 300)))},
                headers=owner,
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        done = True
        return ids

    async def cleaner() -> int:
        runs = 0
        while not done:
            report = await cleanup(database, backend, storage_config)
            assert report.orphaned_objects == [], report
            assert report.vanished_rows == [], report
            runs += 1
            await asyncio.sleep(0)
        return runs

    ids, runs = await asyncio.gather(uploads(), cleaner())
    assert runs >= 2
    for file_id in ids:
        response = await client.get(f"{FILES}/{file_id}/url", headers=owner)
        assert response.status_code == 200
        assert (storage_config.storage_local_root / original_key(uuid.UUID(file_id))).exists()
