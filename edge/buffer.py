"""The disk buffer between collectors and the uplink: nothing accepted is lost until the broker has it.

SQLite in WAL mode, one transaction per batch of readings (never per reading: the SD card pays for
every commit). Readings are stored as encoded line protocol. The uplink *takes* a batch, which gives it
the next `seq` and records which rows it carries in `inflight` (one small row per batch, instead of
rewriting every reading), publishes it, and *acks* it after the broker's PUBACK, which deletes the
rows. A batch taken but never acked (crash, power loss, broker gone) is handed out again with the same
`seq` after a restart, so the bridge sees a harmless duplicate rather than a false gap.

Priority 0 (status) leaves before priority 1 (bulk). When the held bytes pass `max_bytes`, the policy
drops the oldest bulk readings or refuses the newest; every dropped reading is counted, persistently.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

PRIORITY_STATUS = 0
PRIORITY_BULK = 1
STATUS_MEASUREMENTS = frozenset({"device_status", "gateway"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (id INTEGER PRIMARY KEY, prio INTEGER NOT NULL, line TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS readings_by_prio ON readings (prio, id);
CREATE TABLE IF NOT EXISTS inflight (seq INTEGER PRIMARY KEY, ids TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def priority_of(line: str) -> int:
    """Status readings first: an operator needs 'AP down' before an hour of interface counters."""
    end = len(line)
    for stop in (",", " "):
        index = line.find(stop)
        if 0 <= index < end:
            end = index
    return PRIORITY_STATUS if line[:end] in STATUS_MEASUREMENTS else PRIORITY_BULK


@dataclass(frozen=True, slots=True)
class Batch:
    seq: int
    ids: tuple[int, ...]
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BufferStats:
    readings: int
    bytes: int
    inflight_batches: int
    dropped: int
    oldest_time_ns: int | None


class Buffer:
    """Store-and-forward queue on disk. Not thread-safe: one owner (the agent's event loop)."""

    def __init__(
        self,
        path: Path,
        max_bytes: int,
        on_full: Literal["drop_oldest", "drop_newest"] = "drop_oldest",
        synchronous: Literal["normal", "full"] = "normal",
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.on_full = on_full
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT count(*), coalesce(sum(length(line)), 0) FROM readings").fetchone()
        self._count, self._bytes = int(row[0]), int(row[1])
        self._next_seq = self._meta("next_seq", 1)
        self._dropped = self._meta("dropped", 0)
        self._taken: dict[int, tuple[int, ...]] = {}
        self._resend: list[int] = [
            seq for (seq,) in self._db.execute("SELECT seq FROM inflight ORDER BY seq")
        ]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Buffer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _meta(self, key: str, default: int) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else default

    def _set_meta(self, key: str, value: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def put(self, lines: Sequence[str]) -> int:
        """Store `lines` in one transaction; returns how many were dropped to respect max_bytes."""
        if not lines:
            return 0
        incoming = sum(map(len, lines))
        dropped = 0
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self.on_full == "drop_newest":
                keep: list[str] = []
                room = self.max_bytes - self._bytes
                for line in lines:
                    if len(line) <= room:
                        keep.append(line)
                        room -= len(line)
                dropped, incoming, lines = len(lines) - len(keep), sum(map(len, keep)), keep
            self._db.executemany(
                "INSERT INTO readings (prio, line) VALUES (?, ?)",
                [(priority_of(line), line) for line in lines],
            )
            self._count += len(lines)
            self._bytes += incoming
            if self.on_full == "drop_oldest" and self._bytes > self.max_bytes:
                dropped += self._drop_oldest(self._bytes - self.max_bytes)
            if dropped:
                self._dropped += dropped
                self._set_meta("dropped", self._dropped)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return dropped

    def _drop_oldest(self, excess_bytes: int) -> int:
        """Delete the oldest bulk readings (then status ones) until `excess_bytes` are freed."""
        victims: list[tuple[int]] = []
        freed = 0
        for prio in (PRIORITY_BULK, PRIORITY_STATUS):
            cursor = self._db.execute(
                "SELECT id, length(line) FROM readings WHERE prio = ? ORDER BY id", (prio,)
            )
            for row_id, size in cursor:
                if freed >= excess_bytes:
                    break
                victims.append((row_id,))
                freed += size
            cursor.close()
        self._db.executemany("DELETE FROM readings WHERE id = ?", victims)
        self._count -= len(victims)
        self._bytes -= freed
        return len(victims)

    def take(self, max_lines: int) -> Batch | None:
        """The next batch to publish: first any batch taken before a restart, then new readings."""
        while self._resend:
            seq = self._resend.pop(0)
            (ids_json,) = self._db.execute("SELECT ids FROM inflight WHERE seq = ?", (seq,)).fetchone()
            ids = tuple(json.loads(ids_json))
            lines = self._lines_of(ids)
            if lines:
                self._taken[seq] = ids
                return Batch(seq, ids, lines)
            self._db.execute("DELETE FROM inflight WHERE seq = ?", (seq,))
        taken = {row_id for ids in self._taken.values() for row_id in ids}
        rows = self._db.execute(
            "SELECT id, line FROM readings ORDER BY prio, id LIMIT ?", (max_lines + len(taken),)
        ).fetchall()
        rows = [row for row in rows if row[0] not in taken][:max_lines]
        if not rows:
            return None
        seq, ids = self._next_seq, tuple(int(row[0]) for row in rows)
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("INSERT INTO inflight (seq, ids) VALUES (?, ?)", (seq, json.dumps(ids)))
        self._set_meta("next_seq", seq + 1)
        self._db.execute("COMMIT")
        self._next_seq = seq + 1
        self._taken[seq] = ids
        return Batch(seq, ids, tuple(str(row[1]) for row in rows))

    def _lines_of(self, ids: tuple[int, ...]) -> tuple[str, ...]:
        rows = self._db.execute(
            "SELECT line FROM readings WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (json.dumps(ids),),
        )
        return tuple(str(line) for (line,) in rows)

    def ack(self, seq: int) -> None:
        """The broker has the batch: delete its readings for good."""
        ids = self._taken.pop(seq, ())
        self._db.execute("BEGIN IMMEDIATE")
        sizes = self._db.execute(
            "DELETE FROM readings WHERE id IN (SELECT value FROM json_each(?)) RETURNING length(line)",
            (json.dumps(ids),),
        ).fetchall()
        self._db.execute("DELETE FROM inflight WHERE seq = ?", (seq,))
        self._db.execute("COMMIT")
        self._count -= len(sizes)
        self._bytes -= sum(int(size) for (size,) in sizes)

    def release(self, seq: int) -> None:
        """The batch was not delivered (connection lost): hand it out again, same seq, first."""
        if self._taken.pop(seq, None) is not None:
            self._resend.append(seq)
            self._resend.sort()

    def release_all(self) -> None:
        for seq in list(self._taken):
            self.release(seq)

    def stats(self) -> BufferStats:
        row = self._db.execute("SELECT line FROM readings ORDER BY id LIMIT 1").fetchone()
        oldest = int(str(row[0]).rsplit(" ", 1)[1]) if row else None
        return BufferStats(
            self._count, self._bytes, len(self._taken) + len(self._resend), self._dropped, oldest
        )
