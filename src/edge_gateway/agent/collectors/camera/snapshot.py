"""The HTTP snapshot check: the camera's still picture is fetched, measured and hashed, never kept.

Fields: `snapshot_bytes` (a black or broken picture is often tiny), `snapshot_age_s` (now minus the
picture's `Last-Modified`, when the camera sends one: a stale still means a stuck encoder), and
`snapshot_changed` (its hash differs from the previous check's). For H.264 streams, whose frames
cannot be compared by hash (picture.py), `frozen` comes from the snapshots.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from email.utils import parsedate_to_datetime

import aiohttp

from edge_gateway.agent.collectors.camera.picture import PictureWatch
from edge_gateway.core.model import FieldValue

MAX_SNAPSHOT_BYTES = 8 * 2**20


class SnapshotError(Exception):
    """The snapshot URL did not give a picture."""


async def check_snapshot(
    http: aiohttp.ClientSession, url: str, watch: PictureWatch, now_s: float
) -> tuple[dict[str, FieldValue], bool | None]:
    """The snapshot's fields, and the frozen verdict of the snapshots (None before there are two)."""
    async with http.get(url) as response:
        if response.status != 200:
            raise SnapshotError(f"snapshot answered HTTP {response.status}")
        data = await response.content.read(MAX_SNAPSHOT_BYTES + 1)
        modified = response.headers.get("Last-Modified")
    if len(data) > MAX_SNAPSHOT_BYTES:
        raise SnapshotError(f"snapshot larger than {MAX_SNAPSHOT_BYTES} bytes")
    if not data.startswith(b"\xff\xd8"):
        raise SnapshotError("snapshot is not a JPEG picture")
    digest = hashlib.blake2b(data, digest_size=16).digest()
    fields: dict[str, FieldValue] = {"snapshot_bytes": len(data)}
    if watch.last_hash is not None:
        fields["snapshot_changed"] = digest != watch.last_hash
    if modified:
        # an unparsable date: the age is unknown, not an error of the camera's picture
        with contextlib.suppress(TypeError, ValueError):
            age_s = time.time() - parsedate_to_datetime(modified).timestamp()
            fields["snapshot_age_s"] = round(max(age_s, 0.0), 1)
    first = watch.last_hash is None
    frozen = watch.update([digest], now_s)
    return fields, None if first else frozen
