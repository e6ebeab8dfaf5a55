"""How the disk buffer lays out a reading, and the migration of a file written by an older version.

A row keeps what the uplink and the health report need as columns, given by the sink that knew them:
the priority (`prio`), the reading's time (`time_ns`) and the line protocol up to that time (`body`).
The line is `body || ' ' || time_ns`, made again when a batch is taken, so the time is stored once, as
an 8-byte integer, rather than as 19 digits of text that had to be parsed back. A line handed over as
text only (tools, tests, a file of the previous version) is split once, when it is stored.

Schema versions (`PRAGMA user_version`): 0, the previous one, kept the whole line in `line`; 2 is this
one. The migration renames the column in place, then splits the old lines a chunk per transaction, so
that it needs no second copy of the file and a crash part-way only leaves chunks to do on the next
start; the row ids, and so the batches in flight and the order, stay as they were.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import NamedTuple

from edge_gateway.core.lineproto import encode
from edge_gateway.core.model import Reading
from edge_gateway.core.schema import priority_of_measurement

SCHEMA_VERSION = 2
MIGRATE_ROWS = 20_000  # rows split per transaction: a small WAL on a small disk

SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT, prio INTEGER NOT NULL, body TEXT NOT NULL, time_ns INTEGER
);
DROP INDEX IF EXISTS readings_by_prio;
CREATE INDEX IF NOT EXISTS readings_status ON readings (id) WHERE prio = 0;
CREATE TABLE IF NOT EXISTS inflight (seq INTEGER PRIMARY KEY, ids TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TEMP TABLE taken (id INTEGER PRIMARY KEY);
"""
# The whole line and its length, in SQL (a line given without a time has a NULL time_ns).
LINE = "body || coalesce(' ' || time_ns, '')"
LINE_BYTES = f"length({LINE})"


class Entry(NamedTuple):
    """One reading as the buffer stores it, and the bytes of its whole line (what `max_bytes` counts)."""

    prio: int
    body: str
    time_ns: int | None
    size: int


def priority_of(line: str) -> int:
    """The priority of a line given as text: its measurement is what comes before a comma or space."""
    end = len(line)
    for stop in (",", " "):
        index = line.find(stop)
        if 0 <= index < end:
            end = index
    return priority_of_measurement(line[:end])


def entries_of(readings: Iterable[Reading]) -> list[Entry]:
    """The entries of readings that have a representable field, from what the sink knows of each."""
    entries = []
    for reading in readings:
        line = encode(reading)
        if line is not None:  # encode ends every line with " {time_ns}"
            body = line[: -len(str(reading.time_ns)) - 1]
            entries.append(
                Entry(priority_of_measurement(reading.measurement), body, reading.time_ns, len(line))
            )
    return entries


def _split(line: str) -> tuple[str, int | None]:
    """A line's body and time; a line without a time, or with one written otherwise than `str(int)`
    writes it (a sign, leading zeros), stays whole, so that the line put together again is the same."""
    body, space, tail = line.rpartition(" ")
    if space and tail.isdigit() and tail.isascii() and (tail[0] != "0" or tail == "0"):
        return body, int(tail)
    return line, None


def entry_of_line(line: str) -> Entry:
    body, time_ns = _split(line)
    return Entry(priority_of(line), body, time_ns, len(line))


def migrate(db: sqlite3.Connection, write: Callable[[Callable[[], int]], int]) -> None:
    """Bring a file of an older version to SCHEMA_VERSION; `write` runs a step in one transaction."""
    if db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    columns = {str(row[1]) for row in db.execute("PRAGMA table_info(readings)")}
    if "line" in columns:

        def rename() -> int:
            db.execute("ALTER TABLE readings RENAME COLUMN line TO body")
            db.execute("ALTER TABLE readings ADD COLUMN time_ns INTEGER")
            return 0

        write(rename)
    db.create_function("edge_body", 1, lambda line: _split(line)[0], deterministic=True)
    db.create_function("edge_time", 1, lambda line: _split(line)[1], deterministic=True)
    after_id = 0

    def split_chunk() -> int:
        ids = db.execute(
            "SELECT id FROM readings WHERE time_ns IS NULL AND id > ? ORDER BY id LIMIT ?",
            (after_id, MIGRATE_ROWS),
        ).fetchall()
        if ids:
            db.execute(
                "UPDATE readings SET time_ns = edge_time(body), body = edge_body(body) "
                "WHERE id >= ? AND id <= ? AND time_ns IS NULL",
                (ids[0][0], ids[-1][0]),
            )
        return int(ids[-1][0]) if ids else 0

    while (last_id := write(split_chunk)) != 0:
        after_id = last_id

    def finish() -> int:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return 0

    write(finish)
