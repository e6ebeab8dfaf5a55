"""The disk buffer between collectors and the uplink: nothing accepted is lost until the broker has it.

SQLite in WAL mode, one transaction per batch of readings (never per reading: the SD card pays for
every commit). Readings are stored as encoded line protocol. The uplink *takes* a batch, which gives it
the next `seq` and records which rows it carries in `inflight` (one small row per batch, instead of
rewriting every reading), publishes it, and *acks* it after the broker's PUBACK, which deletes the
rows. A batch taken but never acked (crash, power loss, broker gone) is handed out again with the same
`seq` after a restart, so the bridge sees a harmless duplicate rather than a false gap.

Priority 0 (status) leaves before priority 1 (bulk). Bulk readings leave oldest first, except while a
backlog older than `live_first_after_s` drains (a backhaul outage of hours): then batches alternate
between the history and the readings accepted since the catch-up began, so dashboards are current
again at once; each of the two streams stays in order. When the held bytes pass `max_bytes`, the
policy drops the oldest bulk readings, refuses the newest, or (`block`) the agent waits for room before
its next cycle; every dropped reading is counted, persistently.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

PRIORITY_STATUS = 0
PRIORITY_BULK = 1
STATUS_MEASUREMENTS = frozenset({"device_status", "gateway"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT, prio INTEGER NOT NULL, line TEXT NOT NULL
);
DROP INDEX IF EXISTS readings_by_prio;
CREATE INDEX IF NOT EXISTS readings_status ON readings (id) WHERE prio = 0;
CREATE TABLE IF NOT EXISTS inflight (seq INTEGER PRIMARY KEY, ids TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TEMP TABLE taken (id INTEGER PRIMARY KEY);
"""
# The priority is spelled out, not bound, so that SQLite can use the partial index for status rows.
_SELECT = "SELECT id, line FROM readings WHERE prio = {prio} AND id >= ? AND id < ? AND id NOT IN temp.taken"
_SELECT_STATUS = _SELECT.format(prio=0) + " ORDER BY id LIMIT ?"
_SELECT_BULK = _SELECT.format(prio=1) + " ORDER BY id LIMIT ?"
_MAX_ID = 2**63 - 1
OnFull = Literal["drop_oldest", "drop_newest", "block"]


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
        on_full: OnFull = "drop_oldest",
        synchronous: Literal["normal", "full"] = "normal",
        live_first_after_s: float = 300.0,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.on_full = on_full
        self.live_first_after_s = live_first_after_s
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA temp_store=MEMORY")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT count(*), coalesce(sum(length(line)), 0) FROM readings").fetchone()
        self._count, self._bytes = int(row[0]), int(row[1])
        self._next_seq = self._meta("next_seq", 1)
        self._dropped = self._meta("dropped", 0)
        self._taken: dict[int, tuple[int, ...]] = {}
        self._resend: list[int] = []
        for seq, ids_json in self._db.execute("SELECT seq, ids FROM inflight ORDER BY seq").fetchall():
            self._resend.append(int(seq))
            self._mark_taken(tuple(json.loads(ids_json)))
        self._live_from_id: int | None = None
        self._live_turn = False

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
                f"SELECT id, length(line) FROM readings WHERE prio = {prio} ORDER BY id"
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

    def has_room(self) -> bool:
        return self._bytes < self.max_bytes

    def _mark_taken(self, ids: tuple[int, ...]) -> None:
        self._db.executemany("INSERT OR IGNORE INTO temp.taken (id) VALUES (?)", [(i,) for i in ids])

    def _unmark_taken(self, ids: tuple[int, ...]) -> None:
        self._db.executemany("DELETE FROM temp.taken WHERE id = ?", [(i,) for i in ids])

    def take(self, max_lines: int) -> Batch | None:
        """The next batch to publish: first any batch released or taken before a restart, then new ones."""
        while self._resend:
            seq = self._resend.pop(0)
            (ids_json,) = self._db.execute("SELECT ids FROM inflight WHERE seq = ?", (seq,)).fetchone()
            ids = tuple(json.loads(ids_json))
            lines = self._lines_of(ids)
            if lines:
                self._taken[seq] = ids
                return Batch(seq, ids, lines)
            self._db.execute("DELETE FROM inflight WHERE seq = ?", (seq,))
            self._unmark_taken(ids)
        rows = self._db.execute(_SELECT_STATUS, (0, _MAX_ID, max_lines)).fetchall()
        if len(rows) < max_lines:
            rows += self._bulk_rows(max_lines - len(rows))
        if not rows:
            return None
        seq, ids = self._next_seq, tuple(int(row[0]) for row in rows)
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("INSERT INTO inflight (seq, ids) VALUES (?, ?)", (seq, json.dumps(ids)))
        self._set_meta("next_seq", seq + 1)
        self._db.execute("COMMIT")
        self._mark_taken(ids)
        self._next_seq = seq + 1
        self._taken[seq] = ids
        return Batch(seq, ids, tuple(str(row[1]) for row in rows))

    def _bulk_rows(self, limit: int) -> list[tuple[int, str]]:
        """Oldest first; during a catch-up, alternately the history and what arrived since it began."""

        def select(low: int, high: int) -> list[tuple[int, str]]:
            return self._db.execute(_SELECT_BULK, (low, high, limit)).fetchall()

        if self._live_from_id is None:
            oldest_ns = self._oldest_time_ns(PRIORITY_BULK)
            if oldest_ns is None or time.time_ns() - oldest_ns < self.live_first_after_s * 1e9:
                return select(0, _MAX_ID)
            (max_id,) = self._db.execute("SELECT coalesce(max(id), 0) FROM readings").fetchone()
            self._live_from_id = int(max_id) + 1
        history = select(0, self._live_from_id)
        if not history:
            self._live_from_id = None  # caught up: one in-order stream again
            return select(0, _MAX_ID)
        self._live_turn = not self._live_turn
        if self._live_turn:
            return select(self._live_from_id, _MAX_ID) or history
        return history

    def _oldest_time_ns(self, prio: int | None = None) -> int | None:
        where = "" if prio is None else f"WHERE prio = {int(prio)} "
        row = self._db.execute(f"SELECT line FROM readings {where}ORDER BY id LIMIT 1").fetchone()
        return int(str(row[0]).rsplit(" ", 1)[1]) if row else None

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
        self._unmark_taken(ids)
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
        inflight = len(self._taken) + len(self._resend)
        return BufferStats(self._count, self._bytes, inflight, self._dropped, self._oldest_time_ns())
