"""A buffer file written by the previous version opens with this one and loses nothing.

The old file is made with the previous version's own DDL and rows as it wrote them (whole lines in
`line`, the priority it derived, a batch in flight, its counters), then drained by the current Buffer.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from edge_gateway.agent import buffer_schema
from edge_gateway.agent.buffer import Buffer
from edge_gateway.agent.buffer_schema import priority_of
from edge_gateway.agent.buffer_tools import BufferTooOld, stats

# The DDL of edge/buffer.py before the columns (git show dd6c5e5~1:edge/buffer.py).
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT, prio INTEGER NOT NULL, line TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS readings_status ON readings (id) WHERE prio = 0;
CREATE TABLE IF NOT EXISTS inflight (seq INTEGER PRIMARY KEY, ids TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def old_lines() -> list[str]:
    lines = [
        f'ap_iface,device=ap-1,ifname=wlan{i % 3} in_octets={i}i,name="a b {i}" {1_700_000_000 + i}'
        for i in range(50)
    ]
    lines[7] = "device_status,device=ap-1 up=false 1700000007"
    lines[30] = "gateway buffer_readings=3i 1700000030"
    lines[41] = "no_time v=1i"  # line protocol without a time: kept as it is
    return lines


def write_old_buffer(path: Path, lines: list[str]) -> None:
    """What the previous version left: all of `lines`, ids 1..5 taken as batch 4 and never acked."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(OLD_SCHEMA)
        db.executemany(
            "INSERT INTO readings (prio, line) VALUES (?, ?)", [(priority_of(x), x) for x in lines]
        )
        db.execute("INSERT INTO inflight (seq, ids) VALUES (4, ?)", (json.dumps([1, 2, 3, 4, 5]),))
        db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [("next_seq", 5), ("dropped", 9)])


@pytest.mark.parametrize("chunk_rows", [buffer_schema.MIGRATE_ROWS, 7])
def test_an_old_buffer_drains_everything_in_order_after_the_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_rows: int
) -> None:
    monkeypatch.setattr(buffer_schema, "MIGRATE_ROWS", chunk_rows)  # 7: the split runs over many chunks
    lines = old_lines()
    path = tmp_path / "buffer.db"
    write_old_buffer(path, lines)
    with pytest.raises(BufferTooOld):
        stats(path)
    with Buffer(path, 1 << 20) as buffer:
        held = buffer.stats()
        assert (held.readings, held.bytes, held.dropped) == (len(lines), sum(map(len, lines)), 9)
        assert held.oldest_time_ns == 1_700_000_000
        resent = buffer.take(100)
        assert resent is not None and (resent.seq, resent.lines) == (4, tuple(lines[:5]))
        buffer.ack(resent.seq)
        batches = []
        while (batch := buffer.take(10)) is not None:
            batches.append(batch)
            buffer.ack(batch.seq)
    assert [batch.seq for batch in batches] == list(range(5, 5 + len(batches)))
    delivered = [line for batch in batches for line in batch.lines]
    status = [line for line in lines[5:] if priority_of(line) == 0]
    assert delivered == status + [line for line in lines[5:] if priority_of(line) == 1]
    assert stats(path)["readings"] == 0


def test_a_migration_cut_short_finishes_on_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = old_lines()
    path = tmp_path / "buffer.db"
    write_old_buffer(path, lines)
    monkeypatch.setattr(buffer_schema, "MIGRATE_ROWS", 10)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        calls = 0

        def write(step: Callable[[], int]) -> int:
            nonlocal calls
            calls += 1
            if calls == 3:
                raise KeyboardInterrupt  # power lost after the rename and one chunk
            db.execute("BEGIN IMMEDIATE")
            result = step()
            db.execute("COMMIT")
            return result

        with pytest.raises(KeyboardInterrupt):
            buffer_schema.migrate(db, write)
    with Buffer(path, 1 << 20) as buffer:
        assert buffer.stats().bytes == sum(map(len, lines))
        batch = buffer.take(100)
        assert batch is not None and batch.lines == tuple(lines[:5])
        buffer.ack(batch.seq)
        rest = buffer.take(100)
        assert rest is not None and sorted(rest.lines) == sorted(lines[5:])
    assert stats(path)["readings"] == len(lines) - 5
