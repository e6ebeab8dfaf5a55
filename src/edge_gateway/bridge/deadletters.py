"""The dead-letter store: what could not be stored, and why, bounded in size whatever a gateway sends.

Records are JSON lines in `bridge.dead_letter_path`; when the file would pass its share of
`dead_letter_max_bytes` it is rotated (`path.1`, `path.2`, ... the oldest deleted), so the files
never hold more than that in all. Each record keeps the message as received, compressed and
truncated to `dead_letter_payload_max_bytes` with its original length: a gzip message is kept as the
gzip bytes it came as (never inflated: a 200 KB zip bomb stays 200 KB), anything else is gzipped.
`edge deadletters list|show|replay` reads them back (src/edge_gateway/bridge/deadletter_tools.py).

Record: `{"id", "time_s", "topic", "gateway", "reason", "detail", "lines", "content_type",
"user_properties", "length", "truncated", "stored", "payload"}` where `reason` is one of `REASONS`,
`stored` says how `payload` (base64) was kept: `gzip` (gzipped by the bridge) or `as-received`
(the gateway's own gzip body).

Bad input is logged once per gateway and kind, not per message: a broken gateway sending thousands
of bad batches must not flood the log; the counts are on `/metrics` per gateway and reason.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

REASONS = (
    "too_large",  # the message is over bridge.max_message_bytes (as received or decompressed)
    "malformed",  # topic, user properties, encoding or line count unusable
    "bad_line",  # lines that are not valid line protocol, misuse a reserved name, or name another gateway
    "refused",  # lines InfluxDB refused (field type conflict, ...)
    "quarantined",  # a message of a gateway quarantined for sending lines InfluxDB refuses
    "unexpected",  # a message that raised an error the bridge did not expect (a bug): kept, acked
)
DETAIL_MAX_CHARS = 1000
USER_PROPERTIES_MAX = 16
PROPERTY_MAX_CHARS = 100
GZIP_LEVEL = 6


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    files: int
    payload_max_bytes: int


@dataclass(frozen=True)
class Letter:
    """One thing set aside: the message (or its bad lines) and why."""

    reason: str
    topic: str
    gateway: str
    detail: str
    body: bytes
    lines: int = 0
    content_type: str = ""
    user_properties: tuple[tuple[str, str], ...] = ()
    as_received_gzip: bool = False  # body is the gateway's gzip bytes: keep them as they are


def rotated(path: Path, index: int) -> Path:
    return path if index == 0 else path.with_name(f"{path.name}.{index}")


class DeadLetters:
    def __init__(self, path: Path, limits: Limits) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.limits = limits
        self.counts: Counter[tuple[str, str]] = Counter()  # (gateway, reason) -> records
        self.write_errors = 0
        self._logged: set[tuple[str, str]] = set()
        self._last_id = 0
        try:
            self._size = path.stat().st_size
        except OSError:
            self._size = 0

    def add(self, letter: Letter) -> None:
        """Count the letter and append its record; a failing disk costs the record, never the bridge."""
        self.counts[(letter.gateway, letter.reason)] += 1
        line = (json.dumps(self._record(letter)) + "\n").encode()
        try:
            if self._size + len(line) > self.limits.max_bytes // self.limits.files and self._size:
                self._rotate()
            with self.path.open("ab") as file:
                file.write(line)
            self._size += len(line)
        except OSError as exc:
            self.write_errors += 1
            if self.write_errors == 1:
                log.error("cannot write dead letters to %s: %s (counted from now on)", self.path, exc)

    def _record(self, letter: Letter) -> dict[str, object]:
        self._last_id = max(self._last_id + 1, time.time_ns())
        share = self.limits.max_bytes // self.limits.files
        keep = letter.body[: min(self.limits.payload_max_bytes, share // 2)]  # a record fits its file
        stored = keep if letter.as_received_gzip else gzip.compress(keep, GZIP_LEVEL)
        return {
            "id": self._last_id,
            "time_s": round(time.time(), 3),
            "topic": letter.topic[: PROPERTY_MAX_CHARS * 2],
            "gateway": letter.gateway,
            "reason": letter.reason,
            "detail": letter.detail[:DETAIL_MAX_CHARS],
            "lines": letter.lines,
            "content_type": letter.content_type[:PROPERTY_MAX_CHARS],
            "user_properties": [
                [key[:PROPERTY_MAX_CHARS], value[:PROPERTY_MAX_CHARS]]
                for key, value in letter.user_properties[:USER_PROPERTIES_MAX]
            ],
            "length": len(letter.body),
            "truncated": len(letter.body) > len(keep),
            "stored": "as-received" if letter.as_received_gzip else "gzip",
            "payload": base64.b64encode(stored).decode("ascii"),
        }

    def _rotate(self) -> None:
        """path.(files-1) is deleted, every other file moves up one, a new current file starts."""
        for index in range(self.limits.files - 1, 0, -1):
            older = rotated(self.path, index - 1)
            if older.exists():
                older.replace(rotated(self.path, index))
        self._size = 0

    def log_once(self, who: str, kind: str, detail: str) -> None:
        """Log the first occurrence of a kind of bad input per gateway (`who`); later ones are counted."""
        if (who, kind) in self._logged:
            return
        self._logged.add((who, kind))
        log.warning(
            "%s from %s, dead-lettered to %s: %s (further ones from %s are only counted)",
            kind,
            who,
            self.path,
            detail[:DETAIL_MAX_CHARS],
            who,
        )
