"""The disk buffer between collectors and the uplink: nothing accepted is lost until the broker has it.

SQLite in WAL mode, one transaction per batch of readings (never per reading: the SD card pays for
every commit). A reading is stored with its priority and time as columns (buffer_schema.py, which
also migrates a file of the previous version). The uplink *takes* a batch, which gives it the next
`seq` and records which rows it carries in `inflight` (one small row per batch, instead of rewriting
every reading), publishes it, and *acks* it after the broker's PUBACK, which deletes the rows. A
batch taken but never acked (crash, power loss, broker gone) is handed out again with the same `seq`
after a restart, so the bridge sees a harmless duplicate rather than a false gap.

Priority 0 (status) leaves before priority 1 (bulk). Bulk readings leave oldest first, except while a
backlog older than `live_first_after_s` drains (a backhaul outage of hours): then batches alternate
between the history and the readings accepted since the catch-up began, so dashboards are current
again at once; each of the two streams stays in order. When the held bytes pass `max_bytes`, the
policy drops the oldest bulk readings, refuses the newest, or (`block`) the agent waits for room before
its next cycle; every dropped reading is counted, persistently.

A full disk is not a crash. The WAL is checkpointed after a small share of the disk (at most SQLite's
usual 1000 pages), so the disk fills with database pages, which acknowledged batches free for new
readings, rather than with a WAL that cannot be emptied without more room. A reserve file next to
the database (`<path>.reserve`, the size of that WAL) is given up at the first write that finds the
disk full, to finish the last checkpoint: after it the database works inside the pages it has.
From then on the buffer holds at most what it held then (`limit_bytes`), and `on_full` applies
against that bound as against `max_bytes`: draining to the broker, which frees pages, goes on, also
when the agent starts on a disk that is already full; a write that still does not fit is dropped and
counted. The reserve is made again, and the bound lifted, once the disk has room for it twice over.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal, TypeVar

from edge_gateway.agent.buffer_schema import LINE, LINE_BYTES, SCHEMA, Entry, entry_of_line, migrate
from edge_gateway.core.schema import PRIORITY_BULK, PRIORITY_STATUS

# The priority is spelled out, not bound, so that SQLite can use the partial index for status rows.
_SELECT = (
    "SELECT id, "
    + LINE
    + " FROM readings WHERE prio = {prio} AND id >= ? AND id < ? AND id NOT IN temp.taken"
)
_SELECT_STATUS = _SELECT.format(prio=0) + " ORDER BY id LIMIT ?"
_SELECT_BULK = _SELECT.format(prio=1) + " ORDER BY id LIMIT ?"
_MAX_ID = 2**63 - 1
OnFull = Literal["drop_oldest", "drop_newest", "block"]
T = TypeVar("T")
PAGE_BYTES = 4096  # SQLite's default page size
RESERVE_CHECK_S = 10.0  # how often a missing reserve looks for room to be made again


class DiskFull(Exception):
    """The buffer's disk has no room for a write, even after emptying the WAL (and the reserve)."""


def _is_full(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


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
        self._disk_cap_bytes: int | None = None  # what the disk holds, once it was found full
        self._reserve = path.with_name(path.name + ".reserve")
        reserve_now = self._reserve.stat().st_size if self._reserve.exists() else 0
        disk_free = shutil.disk_usage(path.parent).free + reserve_now
        wal_pages = max(16, min(1000, disk_free // 16 // PAGE_BYTES))
        self.reserve_bytes = (wal_pages + 64) * PAGE_BYTES  # the WAL, and the largest transaction
        self._reserve_checked_s = -RESERVE_CHECK_S
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA temp_store=MEMORY")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.execute(f"PRAGMA wal_autocheckpoint={wal_pages}")
        self._db.execute(f"PRAGMA journal_size_limit={wal_pages * PAGE_BYTES}")
        self._db.executescript(SCHEMA)
        self._count = self._bytes = self._dropped = self._dropped_saved = 0
        migrate(self._db, partial(self._write, may_use_reserve=True))
        row = self._db.execute(f"SELECT count(*), coalesce(sum({LINE_BYTES}), 0) FROM readings").fetchone()
        self._count, self._bytes = int(row[0]), int(row[1])
        self._next_seq = self._meta("next_seq", 1)
        self._dropped = self._meta("dropped", 0)
        self._dropped_saved = self._dropped
        self._taken: dict[int, tuple[int, ...]] = {}
        self._resend: list[int] = []
        for seq, ids_json in self._db.execute("SELECT seq, ids FROM inflight ORDER BY seq").fetchall():
            self._resend.append(int(seq))
            self._mark_taken(tuple(json.loads(ids_json)))
        self._live_from_id: int | None = None
        self._live_turn = False
        self._keep_reserve()

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

    def put(self, lines: Sequence[Entry | str]) -> int:
        """Store `lines` in one transaction; returns how many were dropped to respect max_bytes.

        The sink gives Entries (buffer_schema.entries_of), with the priority and time it knows; a line
        given as text is split once here.

        On a full disk, `drop_oldest` makes room by dropping as many bytes of the oldest readings
        and `drop_newest` drops `lines`; if even that does not fit, `lines` are dropped. `block`
        raises DiskFull: the caller waits for the uplink.
        """
        if not lines:
            return 0
        entries = [line if isinstance(line, Entry) else entry_of_line(line) for line in lines]
        try:
            return self._write(lambda: self._insert(entries), may_use_reserve=False)
        except DiskFull:
            if self._disk_cap_bytes is None:
                self._disk_cap_bytes = int(self._bytes * 0.95)  # the disk holds no more than this
            if self.on_full == "block":
                raise
        try:
            return self._write(lambda: self._insert(entries), may_use_reserve=True)
        except DiskFull:
            if self._disk_cap_bytes is not None:
                # Deleted rows free whole pages only now and then: hold less, so that the next
                # write frees enough of them for its own rows.
                incoming = sum(entry.size for entry in entries)
                self._disk_cap_bytes = max(0, self._disk_cap_bytes - incoming - 2 * PAGE_BYTES)
            self._dropped += len(entries)  # saved with the next write that finds room
            return len(entries)

    @property
    def limit_bytes(self) -> int:
        """`max_bytes`, or less while the disk is full: the bytes it was found to hold."""
        cap = self._disk_cap_bytes
        return self.max_bytes if cap is None else min(self.max_bytes, cap)

    def _insert(self, entries: list[Entry]) -> int:
        incoming = sum(entry.size for entry in entries)
        dropped = 0
        limit = self.limit_bytes
        if self.on_full == "drop_oldest" and self._bytes + incoming > limit:
            # Room first: the pages of the oldest take the new readings when the file cannot grow.
            dropped += self._drop_oldest(self._bytes + incoming - limit)
        if self.on_full == "drop_newest":
            keep: list[Entry] = []
            room = limit - self._bytes
            for entry in entries:
                if entry.size <= room:
                    keep.append(entry)
                    room -= entry.size
            dropped, incoming, entries = len(entries) - len(keep), sum(e.size for e in keep), keep
        self._db.executemany(
            "INSERT INTO readings (prio, body, time_ns) VALUES (?, ?, ?)", [entry[:3] for entry in entries]
        )
        self._count += len(entries)
        self._bytes += incoming
        if self.on_full == "drop_oldest" and self._bytes > limit:
            dropped += self._drop_oldest(self._bytes - limit)
        self._dropped += dropped
        if self._dropped != self._dropped_saved:
            self._set_meta("dropped", self._dropped)
        return dropped

    def _write(self, work: Callable[[], T], may_use_reserve: bool) -> T:
        """Run `work` in one transaction; on a full disk, make room and try again, then raise DiskFull.

        Room comes first from emptying the WAL into the database; the uplink (`may_use_reserve`) may
        then give up the reserve file, so that draining, which frees pages for new readings, goes on.
        """
        remedies = [self._checkpoint] + ([self._release_reserve] if may_use_reserve else [])
        while True:
            counters = (self._count, self._bytes, self._dropped)
            try:
                self._db.execute("BEGIN IMMEDIATE")
                result = work()
                self._db.execute("COMMIT")
            except BaseException as exc:
                # SQLite has already rolled back after some errors (a full disk among them).
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self._count, self._bytes, self._dropped = counters
                if not isinstance(exc, sqlite3.OperationalError) or not _is_full(exc):
                    raise
                if not remedies:
                    raise DiskFull(f"no room for the buffer on {self._reserve.parent}") from exc
                remedies.pop(0)()
                continue
            self._dropped_saved = self._dropped
            self._keep_reserve()
            return result

    def _checkpoint(self) -> None:
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.OperationalError as exc:
            if not _is_full(exc):
                raise

    def _release_reserve(self) -> None:
        self._reserve.unlink(missing_ok=True)
        self._checkpoint()

    def _keep_reserve(self) -> None:
        """Make the reserve file again once the disk has room for it twice over (checked now and then)."""
        now_s = time.monotonic()
        if self._reserve.exists() or now_s - self._reserve_checked_s < RESERVE_CHECK_S:
            return
        self._reserve_checked_s = now_s
        if shutil.disk_usage(self._reserve.parent).free < 2 * self.reserve_bytes:
            if self._disk_cap_bytes is None and self._bytes:
                self._disk_cap_bytes = self._bytes  # no room to finish a checkpoint that would grow the file
            return
        self._disk_cap_bytes = None
        try:
            fd = os.open(self._reserve, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.reserve_bytes)
            finally:
                os.close(fd)
        except OSError:
            self._reserve.unlink(missing_ok=True)  # a half-made reserve would only mislead

    def _drop_oldest(self, excess_bytes: int) -> int:
        """Delete the oldest bulk readings (then status ones) until `excess_bytes` are freed."""
        victims: list[tuple[int]] = []
        freed = 0
        for prio in (PRIORITY_BULK, PRIORITY_STATUS):
            cursor = self._db.execute(
                f"SELECT id, {LINE_BYTES} FROM readings WHERE prio = {prio} ORDER BY id"
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
        return self._bytes < self.limit_bytes

    def _mark_taken(self, ids: tuple[int, ...]) -> None:
        self._db.executemany("INSERT OR IGNORE INTO temp.taken (id) VALUES (?)", [(i,) for i in ids])

    def _unmark_taken(self, ids: tuple[int, ...]) -> None:
        self._db.executemany("DELETE FROM temp.taken WHERE id = ?", [(i,) for i in ids])

    def take(self, max_lines: int) -> Batch | None:
        """The next batch to publish: first any batch released or taken before a restart, then new ones."""
        while self._resend:
            seq = self._resend[0]
            (ids_json,) = self._db.execute("SELECT ids FROM inflight WHERE seq = ?", (seq,)).fetchone()
            ids = tuple(json.loads(ids_json))
            lines = self._lines_of(ids)
            if lines:
                self._resend.pop(0)
                self._taken[seq] = ids
                return Batch(seq, ids, lines)
            self._write(partial(self._db.execute, "DELETE FROM inflight WHERE seq = ?", (seq,)), True)
            self._resend.pop(0)
            self._unmark_taken(ids)
        rows = self._db.execute(_SELECT_STATUS, (0, _MAX_ID, max_lines)).fetchall()
        if len(rows) < max_lines:
            rows += self._bulk_rows(max_lines - len(rows))
        if not rows:
            return None
        seq, ids = self._next_seq, tuple(int(row[0]) for row in rows)

        def record() -> None:
            self._db.execute("INSERT INTO inflight (seq, ids) VALUES (?, ?)", (seq, json.dumps(ids)))
            self._set_meta("next_seq", seq + 1)

        self._write(record, may_use_reserve=True)
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
        row = self._db.execute(f"SELECT time_ns FROM readings {where}ORDER BY id LIMIT 1").fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def _lines_of(self, ids: tuple[int, ...]) -> tuple[str, ...]:
        rows = self._db.execute(
            f"SELECT {LINE} FROM readings WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (json.dumps(ids),),
        )
        return tuple(str(line) for (line,) in rows)

    def ack(self, seq: int) -> None:
        """The broker has the batch: delete its readings for good (DiskFull leaves it taken)."""
        ids = self._taken.get(seq, ())

        def delete() -> None:
            sizes = self._db.execute(
                f"DELETE FROM readings WHERE id IN (SELECT value FROM json_each(?)) RETURNING {LINE_BYTES}",
                (json.dumps(ids),),
            ).fetchall()
            self._db.execute("DELETE FROM inflight WHERE seq = ?", (seq,))
            self._count -= len(sizes)
            self._bytes -= sum(int(size) for (size,) in sizes)

        self._write(delete, may_use_reserve=True)
        self._taken.pop(seq, None)
        self._unmark_taken(ids)

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
