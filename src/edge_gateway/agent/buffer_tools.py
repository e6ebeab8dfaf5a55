"""`edge buffer stats|dump`: look into a gateway's disk buffer, read-only, even while the agent runs.

For the technician after an outage: how much is waiting, how old, of what, and what exactly. The
database is opened read-only (SQLite WAL lets a reader in beside the running agent), so looking can
never disturb what is being forwarded.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from edge_gateway.agent.buffer_schema import LINE, LINE_BYTES, SCHEMA_VERSION


class BufferNotFound(Exception):
    """No buffer database at the given path."""


class BufferTooOld(BufferNotFound):
    """A buffer written by an older version (the agent converts it the next time it starts)."""


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise BufferNotFound(f"{path}: no buffer database there")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version < SCHEMA_VERSION:
        db.close()
        raise BufferTooOld(f"{path}: written by an older version; the agent converts it when it starts")
    return db


def stats(path: Path) -> dict[str, Any]:
    """What the buffer holds, per measurement, and how old the oldest reading is."""
    db = _connect(path)
    try:
        per_measurement: dict[str, int] = {}
        measurement = "substr(body, 1, instr(replace(body, ' ', ','), ',') - 1)"
        query = f"SELECT {measurement}, count(*) FROM readings GROUP BY 1"
        for measurement, count in db.execute(query):
            per_measurement[str(measurement)] = int(count)
        count, size = db.execute(f"SELECT count(*), coalesce(sum({LINE_BYTES}), 0) FROM readings").fetchone()
        oldest = db.execute("SELECT time_ns FROM readings ORDER BY id LIMIT 1").fetchone()
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        (inflight,) = db.execute("SELECT count(*) FROM inflight").fetchone()
    finally:
        db.close()
    oldest_s = round((time.time_ns() - oldest[0]) / 1e9, 1) if oldest and oldest[0] is not None else None
    return {
        "path": str(path),
        "readings": int(count),
        "bytes": int(size),
        "file_bytes": sum(p.stat().st_size for p in path.parent.glob(path.name + "*")),
        "oldest_age_s": oldest_s,
        "batches_in_flight": int(inflight),
        "next_seq": int(meta.get("next_seq", 1)),
        "dropped": int(meta.get("dropped", 0)),
        "readings_per_measurement": dict(sorted(per_measurement.items())),
    }


def dump(path: Path, limit: int | None, out: TextIO | None = None) -> int:
    """Print the held readings as line protocol, in the order they were accepted; returns how many."""
    out = out or sys.stdout
    db = _connect(path)
    try:
        query = f"SELECT {LINE} FROM readings ORDER BY id" + (" LIMIT ?" if limit is not None else "")
        printed = 0
        for (line,) in db.execute(query, (limit,) if limit is not None else ()):
            out.write(f"{line}\n")
            printed += 1
    finally:
        db.close()
    return printed


def print_stats(path: Path, as_json: bool) -> None:
    result = stats(path)
    if as_json:
        print(json.dumps(result))
        return
    age = "-" if result["oldest_age_s"] is None else f"{result['oldest_age_s']} s"
    print(f"{result['path']}: {result['readings']} readings, {result['bytes']} bytes of line protocol")
    print(f"  file on disk {result['file_bytes']} bytes; oldest reading {age} old")
    inflight, next_seq, dropped = result["batches_in_flight"], result["next_seq"], result["dropped"]
    print(f"  batches in flight {inflight}; next seq {next_seq}; dropped {dropped}")
    for measurement, count in result["readings_per_measurement"].items():
        print(f"  {measurement:<16} {count}")
