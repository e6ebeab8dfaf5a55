"""The agent dies without warning: `kill -9` during a backlog drain, and a power cut while writing."""

from __future__ import annotations

import contextlib
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge_gateway.agent.buffer import Buffer
from edge_gateway.agent.buffer_schema import LINE
from tests.chaos.buffer_writer import line_of, value_of
from tests.chaos.pipeline import GATEWAY, Report, pipeline
from tests.integration.helpers import wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]  # where `python -m tests.chaos.buffer_writer` imports from
BACKLOG_READINGS = 20_000
KILLS = 3
POWER_CUTS = 20


def remaining(buffer_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(buffer_path, timeout=10)) as db:
        return int(db.execute("SELECT count(*) FROM readings").fetchone()[0])


def test_agent_kill_9_again_and_again_during_a_backlog_drain(tmp_path: Path, fleet_config: str) -> None:
    with pipeline(tmp_path, fleet_config) as pipe:
        pipe.agent.stop()
        # An hour-old backlog, as after a long backhaul outage, put by the agent's own buffer code.
        start_ns = time.time_ns() - 3600 * 10**9
        backlog = [
            f"ap_iface,device=ap-{i % 40:03d},gateway={GATEWAY},ifname=ether{i % 3} in_octets={i}i "
            f"{start_ns + i * 1000}"
            for i in range(BACKLOG_READINGS)
        ]
        with Buffer(pipe.ledger.path, 1 << 30) as buffer:
            for first in range(0, BACKLOG_READINGS, 1000):
                buffer.put(backlog[first : first + 1000])
        for kill in range(1, KILLS + 1):
            pipe.agent.start()
            left_at_most = BACKLOG_READINGS * (KILLS + 1 - kill) // (KILLS + 1)
            wait_for(
                lambda n=left_at_most: remaining(pipe.ledger.path) <= n,  # type: ignore[misc]
                60,
                f"the drain under way (at most {left_at_most} readings left)",
                pipe.logs(),
            )
            pipe.agent.kill()
            with contextlib.closing(sqlite3.connect(pipe.ledger.path)) as db:
                assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        pipe.agent.start()
        pipe.account("agent_kill9_x3_during_drain", time.monotonic(), extra=f"backlog={BACKLOG_READINGS}")


def test_power_cut_at_random_points_of_put_and_ack_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "buffer.db"
    Buffer(path, 1 << 30).close()
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    committed: set[int] = set()
    ack_started: set[int] = set()
    acked_seqs: set[int] = set()
    next_value = 0
    for cut in range(POWER_CUTS):
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.buffer_writer", str(path), str(next_value)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n", "the buffer did not open after a power cut"
        time.sleep(rng.uniform(0.0, 0.3))  # a random point of the put/take/ack loop
        child.kill()
        child.wait()
        for said in child.stdout.read().splitlines():
            word, *rest = said.split()
            if word == "put":
                committed.update(range(int(rest[0]), int(rest[1]) + 1))
                next_value = int(rest[1]) + 1
            elif word == "acking":
                ack_started.update(int(v) for v in rest[1:])
            elif word == "acked":
                acked_seqs.add(int(rest[0]))
        child.stdout.close()
        next_value += 1000  # a put that committed unannounced must not collide with the next ones
        with contextlib.closing(sqlite3.connect(path)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"cut {cut}, seed {seed}"
            present = {value_of(line) for (line,) in db.execute(f"SELECT {LINE} FROM readings")}
            inflight = {int(seq) for (seq,) in db.execute("SELECT seq FROM inflight")}
        lost = committed - ack_started - present
        assert not lost, f"cut {cut} (seed {seed}): committed readings gone: {sorted(lost)[:10]}"
        assert not inflight & acked_seqs, f"cut {cut} (seed {seed}): an acked batch came back"
    with Buffer(path, 1 << 30) as buffer:  # what is left drains as usual
        drained: list[str] = []
        while (batch := buffer.take(1000)) is not None:
            drained.extend(batch.lines)
            buffer.ack(batch.seq)
    assert set(map(line_of, committed - ack_started)) <= set(drained)
    Report(
        "power_cut_x20_during_put_ack",
        produced=len(committed),
        stored=len(committed & (present | ack_started)),
        lost=len(committed - ack_started - present),
        duplicated=0,
        drain_s=None,
        extra=f"seed={seed}",
    ).publish()
