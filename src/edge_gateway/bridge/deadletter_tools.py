"""`edge deadletters list|show|replay`: the operator's view of what the bridge set aside, and a way back.

`replay` sends records through the very checks a message from the gateway goes through
(`decode_message` with the bridge's limits, then the store with its type checks and bounded
isolation) into the configured database; what fails again is dead-lettered again, with its new
reason. A truncated record cannot be replayed (its end is gone).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from edge_gateway.bridge.config import BridgeConfig
from edge_gateway.bridge.deadletters import DeadLetters, Letter, Limits, rotated
from edge_gateway.bridge.influx import InfluxWriter
from edge_gateway.bridge.ingest import MessageError, decode_message
from edge_gateway.bridge.store import Store
from edge_gateway.core import wire

SHOW_MAX_BYTES = 16 * 2**20  # `show` inflates no more than this of a record, whatever it holds


def records(path: Path, files: int) -> Iterator[dict[str, Any]]:
    """Every record, oldest file first; unreadable lines are skipped."""
    for index in range(files - 1, -1, -1):
        try:
            text = rotated(path, index).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "id" in record:
                yield record


def stored_bytes(record: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(str(record.get("payload", "")), validate=True)
    except (binascii.Error, ValueError):
        return b""


def body_of(record: dict[str, Any], max_bytes: int = SHOW_MAX_BYTES) -> bytes:
    """The message body as the gateway meant it (inflated), at most `max_bytes` of it."""
    stored = stored_bytes(record)
    if record.get("stored") == "as-received" and record.get("content_type") != wire.CONTENT_TYPE_GZIP:
        return stored[:max_bytes]
    try:
        return zlib.decompressobj(31).decompress(stored, max_bytes)
    except zlib.error:
        return stored[:max_bytes]  # a "gzip" message that was not gzip: shown as it came


def summary_line(record: dict[str, Any]) -> str:
    when = datetime.datetime.fromtimestamp(float(record.get("time_s", 0)), datetime.UTC)
    cut = " (truncated)" if record.get("truncated") else ""
    return (
        f"{record['id']}  {when:%Y-%m-%d %H:%M:%S}  {record.get('gateway') or '-'}  {record.get('reason')}"
        f"  lines={record.get('lines', 0)}  bytes={record.get('length', 0)}{cut}  "
        f"{str(record.get('detail', ''))[:100]}"
    )


def select(
    path: Path, files: int, ids: list[int], gateway: str | None, reason: str | None
) -> list[dict[str, Any]]:
    return [
        record
        for record in records(path, files)
        if (not ids or record["id"] in ids)
        and (gateway is None or record.get("gateway") == gateway)
        and (reason is None or record.get("reason") == reason)
    ]


@dataclass
class ReplayResult:
    replayed: int = 0
    skipped: int = 0
    points: int = 0
    set_aside: int = 0


async def replay(config: BridgeConfig, chosen: list[dict[str, Any]]) -> ReplayResult:
    """Send the records through the bridge's checks and store into its database."""
    conf = config.bridge
    letters = DeadLetters(
        conf.dead_letter_path,
        Limits(conf.dead_letter_max_bytes, conf.dead_letter_files, conf.dead_letter_payload_max_bytes),
    )
    result = ReplayResult()
    async with aiohttp.ClientSession() as session:
        store = Store(
            InfluxWriter(config.influxdb, session),
            conf.retry_max_s,
            max_refused_requests=conf.max_refused_requests,
        )
        for record in chosen:
            if record.get("truncated"):
                result.skipped += 1
                continue
            result.replayed += 1
            await _replay_one(record, conf.max_message_bytes, store, letters, result)
    return result


async def _replay_one(
    record: dict[str, Any], max_bytes: int, store: Store, letters: DeadLetters, result: ReplayResult
) -> None:
    topic = str(record.get("topic", ""))
    gateway = str(record.get("gateway", ""))
    properties = {str(key): str(value) for key, value in record.get("user_properties", [])}
    properties[wire.PROP_VERSION] = properties.get(wire.PROP_VERSION, wire.FORMAT_VERSION)
    properties.setdefault(wire.PROP_SEQ, "0")
    if record.get("lines"):  # lines set aside from a message: replayed as a message of those lines
        body, content_type = body_of(record, max_bytes + 1), ""
        properties[wire.PROP_COUNT] = str(record["lines"])
    else:
        as_received = record.get("stored") == "as-received"
        body = stored_bytes(record) if as_received else body_of(record, max_bytes + 1)
        content_type = str(record.get("content_type", ""))
    try:
        decoded = decode_message(topic, body, properties, content_type, max_bytes)
    except MessageError as exc:
        result.set_aside += 1
        letters.add(Letter(exc.reason, topic, gateway, f"on replay: {exc}", body, content_type=content_type))
        return
    refused = await store.store(decoded.lines)
    result.points += len(decoded.lines) - len(refused)
    for reason, aside in (
        ("bad_line", [(r, line) for line, r in decoded.bad_lines]),
        ("refused", [(r, line) for line, r in refused]),
    ):
        if aside:
            result.set_aside += len(aside)
            text = "".join(line + "\n" for _, line in aside).encode()
            letters.add(Letter(reason, topic, gateway, f"on replay: {aside[0][0]}", text, lines=len(aside)))
