"""Counting end to end: what the agent accepted into its buffer against what InfluxDB holds.

The agent's own buffer is the ground truth of what it accepted. Before the agent first opens it, the
test adds two triggers to the buffer database: every row the agent inserts into `readings` is copied
into `chaos_produced` (same id, its whole line), and every batch it numbers (`inflight`) into
`chaos_batches`. The copy is made in the agent's own transaction, so it holds exactly what was
committed, survives `kill -9` like the readings do, and stays after the uplink deletes the originals
on PUBACK. The test only reads.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import urllib.error
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from edge_gateway.agent.buffer import Buffer
from tests.chaos.proxies import Key, key_of
from tests.integration.helpers import influx_query

TRIGGERS = """
CREATE TABLE IF NOT EXISTS chaos_produced (id INTEGER PRIMARY KEY, line TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS chaos_produced AFTER INSERT ON readings
BEGIN INSERT OR IGNORE INTO chaos_produced (id, line)
VALUES (new.id, new.body || coalesce(' ' || new.time_ns, '')); END;
CREATE TABLE IF NOT EXISTS chaos_batches (seq INTEGER PRIMARY KEY, ids TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS chaos_batches AFTER INSERT ON inflight
BEGIN INSERT OR IGNORE INTO chaos_batches (seq, ids) VALUES (new.seq, new.ids); END;
"""


class Ledger:
    """What the agent accepted, read incrementally from its buffer while it runs."""

    def __init__(self, buffer_path: Path) -> None:
        self.path = buffer_path
        Buffer(buffer_path, 1 << 30).close()  # the agent's own schema, before the agent opens it
        with contextlib.closing(sqlite3.connect(buffer_path)) as db:
            db.executescript(TRIGGERS)
        self.keys: dict[int, Key] = {}  # produced reading id -> its point's identity
        self._last_id = 0

    def _query(self, sql: str, args: tuple[int, ...] = ()) -> list[tuple[int, str]]:
        with contextlib.closing(sqlite3.connect(self.path, timeout=10)) as db:
            return [(int(a), str(b)) for a, b in db.execute(sql, args).fetchall()]

    def refresh(self) -> int:
        """Read the readings accepted since the last call; return the highest id so far."""
        rows = self._query("SELECT id, line FROM chaos_produced WHERE id > ? ORDER BY id", (self._last_id,))
        for row_id, line in rows:
            key = key_of(line)
            assert key is not None, f"the agent buffered a line that is not line protocol: {line!r}"
            self.keys[row_id] = key
        if rows:
            self._last_id = rows[-1][0]
        return self._last_id

    def window(self, up_to_id: int) -> dict[int, Key]:
        return {row_id: key for row_id, key in self.keys.items() if row_id <= up_to_id}

    def held(self) -> set[int]:
        """The ids of the readings the agent's buffer still holds: not yet acknowledged by PUBACK 0x00."""
        with contextlib.closing(sqlite3.connect(self.path, timeout=10)) as db:
            return {int(row_id) for (row_id,) in db.execute("SELECT id FROM readings").fetchall()}

    def batches(self) -> dict[int, tuple[int, ...]]:
        """Every batch the agent numbered: seq -> the reading ids it carries."""
        rows = self._query("SELECT seq, ids FROM chaos_batches ORDER BY seq")
        return {seq: tuple(json.loads(ids)) for seq, ids in rows}


def stored_keys(influx_url: str, gateway: str, measurements: Iterable[str]) -> set[Key] | None:
    """Every point of `gateway` InfluxDB holds in these measurements; None while it cannot answer."""
    keys: set[Key] = set()
    try:
        for measurement in sorted(set(measurements)):
            query = f'SELECT * FROM "{measurement}" WHERE "gateway" = \'{gateway}\' GROUP BY *'
            for series in influx_query(influx_url, "edge", query):
                tags = tuple(sorted((k, v) for k, v in series.get("tags", {}).items() if v))
                keys.update((measurement, tags, int(row[0])) for row in series["values"])
    except (OSError, urllib.error.URLError):
        return None
    return keys


def duplicates(written: Counter[Key], window: Iterable[Key]) -> int:
    """Points of the window written to InfluxDB more than once (harmless: same series, same time)."""
    return sum(max(written[key] - 1, 0) for key in set(window))


def per_device(keys: Iterable[Key]) -> Counter[str]:
    """Readings per device or sensor (the gateway's own health under its measurement name)."""
    counts: Counter[str] = Counter()
    for measurement, tags, _ in keys:
        named = dict(tags)
        counts[named.get("device") or named.get("sensor") or measurement] += 1
    return counts
