"""The buffer's on_full policies through the agent's sink, drained to a real Mosquitto."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from edge_gateway.agent.agent import Agent
from edge_gateway.agent.config import AgentConfig
from edge_gateway.core.model import Reading
from edge_gateway.core.validation import validate
from edge_gateway_dev import servers
from tests.integration.mqtt_checker import checker, running, wait_until

pytestmark = pytest.mark.integration

MAX_BYTES = 4096


def readings(first: int, count: int) -> list[Reading]:
    return [
        Reading("ap_iface", {"device": "ap-1", "ifname": "ether1"}, {"in_octets": i}, 10**18 + i)
        for i in range(first, first + count)
    ]


def agent(tmp_path: Path, url: str, on_full: str) -> Agent:
    config = validate(
        AgentConfig,
        {
            "gateway": {"id": "gw-1"},
            "uplink": {"url": url, "batch_max_readings": 10},
            "buffer": {"path": tmp_path / "buffer.db", "max_bytes": MAX_BYTES, "on_full": on_full},
        },
    )
    return Agent(config)


def in_octets(lines: list[str]) -> list[int]:
    return sorted({int(line.split("in_octets=")[1].split("i")[0]) for line in lines})


@pytest.mark.parametrize("on_full", ["drop_oldest", "drop_newest"])
async def test_drop_policies_drop_exactly_as_configured(
    tmp_path: Path, on_full: str, caplog: pytest.LogCaptureFixture
) -> None:
    broker_port = servers.free_port()
    node = agent(tmp_path, f"mqtt://127.0.0.1:{broker_port}", on_full)
    for cycle in range(20):  # the broker is not there: everything stays in the buffer
        await node.sink(readings(cycle * 10, 10))
    stats = node.buffer.stats()
    full = [r for r in caplog.records if "buffer full" in r.getMessage()]
    assert len(full) == 1, "a full buffer is logged once per episode, not at every dropping write"
    line_bytes = stats.bytes / stats.readings
    assert stats.bytes <= MAX_BYTES < stats.bytes + line_bytes * 1.5
    assert stats.dropped == 200 - stats.readings
    with servers.mosquitto(tmp_path / "mosquitto", port=broker_port) as broker:
        async with checker(broker.host, broker.port, "edge/gw-1/data") as got, running(node.uplink):
            await wait_until(lambda: node.buffer.stats().readings == 0, 20, "the drain")
            await wait_until(lambda: len(in_octets(got.lines)) == stats.readings, 10, "every kept reading")
    kept = in_octets(got.lines)
    expected = (
        list(range(200 - stats.readings, 200)) if on_full == "drop_oldest" else list(range(stats.readings))
    )
    assert kept == expected
    assert node.buffer.stats().dropped == stats.dropped
    node.buffer.close()


async def test_block_policy_makes_collection_wait_and_drops_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker_port = servers.free_port()
    node = agent(tmp_path, f"mqtt://127.0.0.1:{broker_port}", "block")
    cycle = 0
    while node.buffer.has_room():
        await node.sink(readings(cycle * 10, 10))
        cycle += 1
    blocked = asyncio.create_task(node.sink(readings(cycle * 10, 10)))
    # The sink says so, then waits for an acknowledgement that cannot come while the broker is away.
    await wait_until(lambda: "collection waits for the uplink" in caplog.text, 5, "the sink waiting")
    assert not blocked.done()
    with servers.mosquitto(tmp_path / "mosquitto", port=broker_port) as broker:
        async with checker(broker.host, broker.port, "edge/gw-1/data") as got, running(node.uplink):
            await asyncio.wait_for(blocked, 20)
            await wait_until(lambda: len(in_octets(got.lines)) == (cycle + 1) * 10, 20, "every reading")
    assert in_octets(got.lines) == list(range((cycle + 1) * 10))
    assert node.buffer.stats().dropped == 0
    node.buffer.close()
