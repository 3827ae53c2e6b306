"""S3-compatible adapter of `ObjectStorage` (AWS S3, MinIO, moto), on boto3.

boto3 is synchronous: every call runs in a worker thread (`anyio.to_thread`), at most
`S3_MAX_CONCURRENCY` at once (the client's connection pool has as many connections).

Integrity, end to end: every request carries `Content-MD5` and `x-amz-checksum-sha256`
of its bytes (AWS and MinIO refuse a body that does not match), and the ETag S3 answers
(the MD5 of what it stored) is compared with ours. An object whose ETag disagrees is
deleted again and the upload fails.
"""

import base64
import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from anyio import CapacityLimiter, to_thread
from botocore.config import Config
from botocore.exceptions import ClientError

from app.domain.storage import (
    ChecksumMismatchError,
    IncompleteUpload,
    ObjectInfo,
    ObjectStorage,
    PutResult,
)
from app.storage.config import StorageSettings
from app.storage.filenames import content_disposition

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from types_boto3_s3.type_defs import CompletedPartTypeDef


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


def build_client(settings: StorageSettings) -> "S3Client":
    config = Config(
        region_name=settings.s3_region,
        signature_version="s3v4",  # presigned URLs too (SigV2 is deprecated)
        s3={"addressing_style": settings.s3_addressing_style},
        connect_timeout=settings.s3_connect_timeout_seconds,
        read_timeout=settings.s3_read_timeout_seconds,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=settings.s3_max_concurrency,
    )
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=settings.s3_endpoint_url, config=config)


class S3Storage(ObjectStorage):
    name = "s3"

    def __init__(
        self, client: "S3Client", bucket: str, *, part_size: int, concurrency: int
    ) -> None:
        self._client = client
        self.bucket = bucket
        self.part_size = part_size
        self._limiter = CapacityLimiter(concurrency)

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> "S3Storage":
        if settings.s3_bucket is None:  # pragma: no cover - the settings refuse it
            raise ValueError("S3_BUCKET is not set")
        return cls(
            build_client(settings),
            settings.s3_bucket,
            part_size=settings.s3_part_size_bytes,
            concurrency=settings.s3_max_concurrency,
        )

    async def _run[T, *Ts](self, function: Callable[[*Ts], T], *args: *Ts) -> T:
        return await to_thread.run_sync(function, *args, limiter=self._limiter)

    # --- writing ---

    def _put_single(self, key: str, data: bytes, content_type: str) -> PutResult:
        md5 = _md5(data)
        sha256 = hashlib.sha256(data).digest()
        response = self._client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            ContentMD5=_b64(md5),
            ChecksumSHA256=_b64(sha256),
        )
        if response["ETag"].strip('"') != md5.hex():
            self._client.delete_object(Bucket=self.bucket, Key=key)
            msg = f"S3 stored other bytes for {key} (ETag {response['ETag']})"
            raise ChecksumMismatchError(msg)
        return PutResult(key, len(data), sha256.hex())

    def _put_multipart(
        self, key: str, first: bytes, source: BinaryIO, content_type: str
    ) -> PutResult:
        upload = self._client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type, ChecksumAlgorithm="SHA256"
        )
        upload_id = upload["UploadId"]
        whole = hashlib.sha256()
        md5s: list[bytes] = []
        parts: list[CompletedPartTypeDef] = []
        size = 0
        try:
            chunk = first
            while chunk:
                number = len(parts) + 1
                md5 = _md5(chunk)
                sha256 = _b64(hashlib.sha256(chunk).digest())
                response = self._client.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=chunk,
                    ContentMD5=_b64(md5),
                    ChecksumSHA256=sha256,
                )
                if response["ETag"].strip('"') != md5.hex():
                    msg = f"S3 stored other bytes for part {number} of {key}"
                    raise ChecksumMismatchError(msg)
                parts.append(
                    {"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": sha256}
                )
                md5s.append(md5)
                whole.update(chunk)
                size += len(chunk)
                chunk = source.read(self.part_size)
            done = self._client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        # A multipart ETag is the MD5 of the parts' MD5s, then "-<number of parts>".
        expected = f"{_md5(b''.join(md5s)).hex()}-{len(parts)}"
        if done.get("ETag", "").strip('"') != expected:
            self._client.delete_object(Bucket=self.bucket, Key=key)
            msg = f"S3 assembled other bytes for {key} (ETag {done.get('ETag')})"
            raise ChecksumMismatchError(msg)
        return PutResult(key, size, whole.hexdigest())

    def _put(self, key: str, source: BinaryIO, content_type: str) -> PutResult:
        first = source.read(self.part_size)
        if len(first) < self.part_size:
            return self._put_single(key, first, content_type)
        return self._put_multipart(key, first, source, content_type)

    async def put(self, key: str, source: BinaryIO, *, content_type: str) -> PutResult:
        return await self._run(self._put, key, source, content_type)

    async def delete(self, key: str) -> None:
        await self._run(lambda: self._client.delete_object(Bucket=self.bucket, Key=key))

    def _exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return False
            raise
        return True

    async def exists(self, key: str) -> bool:
        return await self._run(self._exists, key)

    # --- listing ---

    def _list_page(self, prefix: str, token: str | None) -> tuple[list[ObjectInfo], str | None]:
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if token:
            arguments["ContinuationToken"] = token
        page = self._client.list_objects_v2(**arguments)
        found = [
            ObjectInfo(item["Key"], item["Size"], item["LastModified"].astimezone(UTC))
            for item in page.get("Contents", [])
        ]
        return found, page.get("NextContinuationToken") if page.get("IsTruncated") else None

    async def list_objects(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        token: str | None = None
        while True:
            found, token = await self._run(self._list_page, prefix, token)
            for info in found:
                yield info
            if token is None:
                return

    def _incomplete(self, prefix: str) -> list[IncompleteUpload]:
        paginator = self._client.get_paginator("list_multipart_uploads")
        return [
            IncompleteUpload(item["Key"], item["UploadId"], item["Initiated"].astimezone(UTC))
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
            for item in page.get("Uploads", [])
        ]

    async def incomplete_uploads(self, prefix: str) -> list[IncompleteUpload]:
        return await self._run(self._incomplete, prefix)

    async def abort_upload(self, upload: IncompleteUpload) -> None:
        await self._run(
            lambda: self._client.abort_multipart_upload(
                Bucket=self.bucket, Key=upload.key, UploadId=upload.upload_id
            )
        )

    # --- reading ---

    async def download_url(
        self, key: str, *, filename: str, content_type: str, expires_in: int
    ) -> str:
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "ResponseContentDisposition": content_disposition(filename),
            "ResponseContentType": content_type,
        }
        # Signing is local, but the first call may fetch credentials (instance role).
        return await self._run(
            lambda: self._client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_in
            )
        )

    async def ping(self) -> None:
        await self._run(lambda: self._client.head_bucket(Bucket=self.bucket))

    async def aclose(self) -> None:
        await self._run(self._client.close)
