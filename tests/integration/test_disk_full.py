"""The buffer's disk full, for real: a 3 MB tmpfs the test mounts. The agent never stops over it.

It keeps draining to the broker (which frees pages for new readings), drops only by its `on_full`
policy, counts and logs it once, and collects again when there is room; started on a disk its buffer
has already filled, it still drains. Mounting needs root (CAP_SYS_ADMIN); so would a loop device, so
without it these tests skip, saying so.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_gateway.agent import buffer as buffer_module
from edge_gateway.agent.agent import Agent
from edge_gateway.agent.buffer import Buffer, DiskFull, OnFull
from edge_gateway.agent.buffer_schema import LINE
from edge_gateway.agent.config import AgentConfig
from edge_gateway.core.model import Reading
from edge_gateway.core.validation import validate
from edge_gateway_dev import servers
from tests.integration.mqtt_checker import checker, running, wait_until

pytestmark = pytest.mark.integration

DISK = "3m"
BATCH = 100


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"cannot mount a {DISK} tmpfs (needs root; a loop mount would too): {mounted.stderr.strip()}"
        )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=False)


def batch(number: int) -> list[str]:
    first = number * BATCH
    return [
        f"ap_iface,device=ap-{i % 10},ifname=ether1 in_octets={i}i {10**18 + i}"
        for i in range(first, first + BATCH)
    ]


def fill(buffer: Buffer) -> int:
    """Put batches until the disk is found full; the number of batches offered."""
    offered = 0
    while buffer.limit_bytes == buffer.max_bytes:
        with contextlib.suppress(DiskFull):  # `block` says so instead of dropping
            buffer.put(batch(offered))
        offered += 1
        assert offered < 1000, "the disk never filled"
    return offered


def cycle_of(number: int) -> list[Reading]:
    first = number * BATCH
    return [
        Reading("ap_iface", {"device": "ap-1"}, {"in_octets": i}, 10**18 + i)
        for i in range(first, first + BATCH)
    ]


def held(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return [str(line) for (line,) in db.execute(f"SELECT {LINE} FROM readings ORDER BY id")]


def drain(buffer: Buffer) -> int:
    sent = 0
    while (taken := buffer.take(500)) is not None:
        buffer.ack(taken.seq)
        sent += len(taken.lines)
    return sent


@pytest.mark.parametrize("on_full", ["drop_oldest", "drop_newest", "block"])
def test_a_full_disk_drops_by_policy_drains_and_takes_readings_again(
    small_disk: Path, on_full: OnFull, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(buffer_module, "RESERVE_CHECK_S", 0.0)  # look for room at every write
    filler = small_disk / "other-files"
    filler.write_bytes(bytes(1024 * 1024))  # somebody else's, freed later
    path = small_disk / "buffer.db"
    buffer = Buffer(path, 1 << 30, on_full)
    offered = fill(buffer)
    for number in range(offered, offered + 5):  # full: the policy decides, nothing raises but `block`
        if on_full == "block":
            with pytest.raises(DiskFull):
                buffer.put(batch(number))
        else:
            buffer.put(batch(number))
    offered += 5
    kept = held(path)
    stats = buffer.stats()
    assert stats.readings == len(kept)
    everything = [line for number in range(offered) for line in batch(number)]
    if on_full == "drop_oldest":
        assert stats.bytes <= buffer.limit_bytes < buffer.max_bytes
        assert kept == everything[-len(kept) :], "the newest readings are kept"
    else:
        assert kept == everything[: len(kept)], "the oldest readings are kept"
    assert stats.dropped == (0 if on_full == "block" else len(everything) - len(kept))

    assert drain(buffer) == len(kept)  # draining goes on: what makes room
    buffer.put(batch(offered))  # and the freed pages take new readings
    assert held(path) == batch(offered)
    assert buffer.stats().dropped == stats.dropped

    filler.unlink()  # room on the disk again: the reserve is made again and the bound lifted
    buffer.put(batch(offered + 1))
    assert buffer.limit_bytes == buffer.max_bytes
    assert (small_disk / "buffer.db.reserve").exists()
    buffer.close()


async def test_the_agent_started_on_a_full_disk_drains_it_and_collects_again(
    small_disk: Path, tmp_path: Path, snmpd: servers.Server
) -> None:
    path = small_disk / "buffer.db"
    with Buffer(path, 1 << 30, "drop_newest") as buffer:  # what an agent left behind with the broker away
        offered = fill(buffer)
        for number in range(offered, offered + 3):
            buffer.put(batch(number))
    backlog = held(path)
    # The rest of the disk taken by something else, but for room for the WAL of one acknowledgement.
    (small_disk / "other-files").write_bytes(bytes(shutil.disk_usage(small_disk).free - 256 * 1024))
    conf = tmp_path / "edge.toml"
    conf.write_text(
        f'[gateway]\nid = "gw-1"\n[uplink]\nurl = "URL"\nreconnect_max_s = 1\n'
        f'[buffer]\npath = "{path}"\non_full = "drop_newest"\n[status]\nenabled = false\n'
        f'[[snmp.devices]]\nname = "ap-1"\nhost = "{snmpd.host}:{snmpd.port}"\ncommunity = "public"\n'
        "interval_s = 1\n"
    )
    with servers.mosquitto(tmp_path / "mosquitto") as broker:
        conf.write_text(conf.read_text().replace("URL", broker.url))
        async with checker(broker.host, broker.port, "edge/gw-1/data") as got:
            with servers.edge_process(["agent", "-c", str(conf)], tmp_path / "agent.log") as agent:
                await wait_until(lambda: set(backlog) <= set(got.lines), 60, "the backlog from the full disk")

                def polls_after_the_drain() -> int:
                    return sum(
                        1 for line in got.lines if line.startswith("device_status,") and "ap-1" in line
                    )

                await wait_until(lambda: polls_after_the_drain() >= 3, 30, "collection again")
                assert agent.poll() is None, "the agent is still running"
    log = (tmp_path / "agent.log").read_text()
    assert "Traceback" not in log
    assert log.count("buffer full") <= 1, "logged once per episode"


async def test_the_agent_fills_the_disk_keeps_going_and_drains_it(
    small_disk: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The issue's case: the broker away, the buffer fills the disk; nothing raises, one log line."""
    broker_port = servers.free_port()
    config = validate(
        AgentConfig,
        {
            "gateway": {"id": "gw-1"},
            "uplink": {"url": f"mqtt://127.0.0.1:{broker_port}", "reconnect_max_s": 1},
            "buffer": {"path": small_disk / "buffer.db", "max_bytes": 1 << 30},
        },
    )
    node = Agent(config)
    cycle = 0
    while node.buffer.limit_bytes == node.buffer.max_bytes:
        await node.sink(cycle_of(cycle))
        cycle += 1
    for _ in range(20):  # full: drop_oldest makes room by the oldest, every cycle
        await node.sink(cycle_of(cycle))
        cycle += 1
    stats = node.buffer.stats()
    assert stats.dropped > 0 and stats.readings + stats.dropped == cycle * BATCH
    assert len([r for r in caplog.records if "buffer full" in r.getMessage()]) == 1
    newest = f"in_octets={cycle * BATCH - 1}i"
    with servers.mosquitto(tmp_path / "mosquitto", port=broker_port) as broker:
        async with checker(broker.host, broker.port, "edge/gw-1/data") as got, running(node.uplink):
            await wait_until(lambda: node.buffer.stats().readings == 0, 60, "the drain")
            await wait_until(lambda: len(set(got.lines)) == stats.readings, 20, "every kept reading")
    assert any(newest in line for line in got.lines), "the newest readings were kept"
    node.buffer.close()
