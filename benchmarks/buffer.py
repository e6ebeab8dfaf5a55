"""Benchmark of the disk buffer and the uplink: `python -m benchmarks.buffer --json`.

Figures, all measured in one run on this machine:
- readings per second into the buffer (transactions of 100, as one poll cycle of a busy AP) and out
  of it (take + ack, batches of 500);
- bytes written to storage per reading over a reading's whole life in the buffer (insert, take, ack),
  from /proc/self/io, against the limit: the same readings inserted once by plain SQLite (WAL, one
  text column, same transactions), which is the least any disk buffer can write;
- the drain time of a backlog of 50 APs polled every 30 s with 60 readings a poll (24 hours by default,
  8.64 million readings) through the real uplink to a local Mosquitto, against the 10-minute target.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from edge_gateway.agent.buffer import Buffer
from edge_gateway.agent.config import UplinkSection
from edge_gateway.agent.uplink import Uplink
from edge_gateway_dev import servers

APS = 50
POLL_INTERVAL_S = 30
READINGS_PER_POLL = 60
PER_TRANSACTION = 100
DRAIN_TARGET_S = 600.0
WRITE_TARGET_BYTES = 1024


def write_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise RuntimeError("no write_bytes in /proc/self/io")


def backlog(hours: float, start_ns: int) -> Iterator[list[str]]:
    """One list of lines per AP poll, in time order, as the collectors would have produced them."""
    polls = int(hours * 3600 / POLL_INTERVAL_S)
    for poll in range(polls):
        time_ns = start_ns + poll * POLL_INTERVAL_S * 10**9
        for ap in range(APS):
            yield [
                f"ap_iface,device=ap-{ap:02d},gateway=cbn-gw-01,ifname=wlan{i},site=Kejaksan "
                f"in_octets={poll * 1000 + i}i,out_octets={poll * 900 + i}i,in_bps={i * 10.5},out_bps=0.0 "
                f"{time_ns}"
                for i in range(READINGS_PER_POLL)
            ]


def measure_writes(folder: Path, count: int) -> dict[str, float]:
    polls = -(-count // (APS * READINGS_PER_POLL))
    lines = [line for poll in backlog(polls * POLL_INTERVAL_S / 3600, 0) for line in poll][:count]
    plain = sqlite3.connect(folder / "plain.db", isolation_level=None)
    plain.execute("PRAGMA journal_mode=WAL")
    plain.execute("PRAGMA synchronous=NORMAL")
    plain.execute("CREATE TABLE r (line TEXT)")
    before = write_bytes()
    for start in range(0, len(lines), PER_TRANSACTION):
        plain.execute("BEGIN")
        plain.executemany(
            "INSERT INTO r VALUES (?)", [(line,) for line in lines[start : start + PER_TRANSACTION]]
        )
        plain.execute("COMMIT")
    plain.close()  # the last connection to close checkpoints the WAL into the database file
    plain_bytes = write_bytes() - before

    buffer = Buffer(folder / "buffer.db", 1 << 34)
    before = write_bytes()
    started = time.perf_counter()
    for start in range(0, len(lines), PER_TRANSACTION):
        buffer.put(lines[start : start + PER_TRANSACTION])
    in_s = time.perf_counter() - started
    started = time.perf_counter()
    while (batch := buffer.take(500)) is not None:
        buffer.ack(batch.seq)
    out_s = time.perf_counter() - started
    buffer.close()
    buffer_bytes = write_bytes() - before
    return {
        "readings": len(lines),
        "in_readings_per_s": round(len(lines) / in_s),
        "out_readings_per_s": round(len(lines) / out_s),
        "written_bytes_per_reading": round(buffer_bytes / len(lines), 1),
        "plain_sqlite_insert_bytes_per_reading": round(plain_bytes / len(lines), 1),
        "written_ratio_to_plain_sqlite": round(buffer_bytes / plain_bytes, 2),
        "written_ratio_to_1kb_target": round(buffer_bytes / len(lines) / WRITE_TARGET_BYTES, 2),
    }


async def drain(buffer: Buffer, broker: servers.Server) -> float:
    # The broker alone measures the drain: no consumer, so a PUBACK 0x10 counts as delivered here.
    conf = UplinkSection(url=broker.url, accept_no_subscribers=True)
    uplink = Uplink(conf, "cbn-gw-01", buffer, asyncio.Event())
    started = time.perf_counter()
    task = asyncio.create_task(uplink.run())
    while buffer.stats().readings:
        uplink.acked.clear()
        await uplink.acked.wait()
    elapsed_s = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return elapsed_s


def measure_drain(folder: Path, hours: float) -> dict[str, float]:
    buffer = Buffer(folder / "backlog.db", 1 << 36)
    start_ns = time.time_ns() - int(hours * 3600 * 10**9)
    chunk: list[str] = []
    total = 0
    for poll in backlog(hours, start_ns):
        chunk.extend(poll)
        if len(chunk) >= 6000:
            buffer.put(chunk)
            total += len(chunk)
            chunk = []
    buffer.put(chunk)
    total += len(chunk)
    with servers.mosquitto(folder / "mosquitto") as broker:
        elapsed_s = asyncio.run(drain(buffer, broker))
    buffer.close()
    target_s = DRAIN_TARGET_S * hours / 24
    return {
        "backlog_hours": hours,
        "backlog_readings": total,
        "drain_s": round(elapsed_s, 1),
        "drain_readings_per_s": round(total / elapsed_s),
        "drain_target_s": round(target_s, 1),
        "drain_ratio_to_target": round(elapsed_s / target_s, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.add_argument("--hours", type=float, default=24.0, help="backlog to drain (default 24 h)")
    parser.add_argument("--write-readings", type=int, default=200_000, help="readings for the write figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edge-bench-", dir=Path.home()) as folder:
        result = {"benchmark": "buffer", **measure_writes(Path(folder), args.write_readings)}
        result.update(measure_drain(Path(folder), args.hours))
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
