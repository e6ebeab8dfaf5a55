"""A backlog over a slow link (8 KB/s through a throttling TCP proxy): no false reconnect, no resend.

aiomqtt bounds a PUBACK wait by the client's `timeout`; with eight batches queued on a slow link the
later PUBACKs come long after it, and the agent took each for a lost connection, reconnected and sent
the batches again. The proxy counts the bytes that crossed the link: a backlog sent once, at the link's
speed, crosses it once. `EDGE_TEST_SLOW_LINK_READINGS` makes the backlog as large as the issue's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from edge_gateway.agent.buffer import Buffer
from edge_gateway.agent.config import UplinkSection
from edge_gateway.agent.uplink import Uplink, encode_batch
from edge_gateway_dev import servers
from tests.integration.mqtt_checker import checker, running, wait_until

pytestmark = pytest.mark.integration

LINK_BYTES_PER_S = 8_000
CHUNK_BYTES = 400  # the proxy forwards this much, then pauses for its time on the link
READINGS = int(os.environ.get("EDGE_TEST_SLOW_LINK_READINGS", "600"))


@dataclass
class Link:
    port: int
    upstream_bytes: int = 0
    connections: int = 0


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: Link | None) -> None:
    """Copy one direction; with `link`, at LINK_BYTES_PER_S, counting the bytes."""
    try:
        while chunk := await reader.read(CHUNK_BYTES if link else 65536):
            writer.write(chunk)
            await writer.drain()
            if link:
                link.upstream_bytes += len(chunk)
                await asyncio.sleep(len(chunk) / LINK_BYTES_PER_S)  # the link's speed is what is simulated
    except ConnectionError:
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def slow_link(target_port: int) -> AsyncIterator[Link]:
    """A TCP proxy on loopback to `target_port`, throttled towards the broker (the gateway's upload)."""
    link = Link(servers.free_port())
    tasks: set[asyncio.Task[None]] = set()

    async def serve(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        link.connections += 1
        broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", target_port)
        async with asyncio.TaskGroup() as pipes:
            pipes.create_task(_pipe(client_reader, broker_writer, link))
            pipes.create_task(_pipe(broker_reader, client_writer, None))

    def start(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(serve(reader, writer))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    server = await asyncio.start_server(start, "127.0.0.1", link.port)
    try:
        yield link
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_backlog_over_a_slow_link_drains_once_without_reconnecting(tmp_path: Path) -> None:
    lines = [
        f"ap_iface,device=ap-{i % 10},ifname=ether1 in_octets={i}i {10**18 + i}" for i in range(READINGS)
    ]
    buffer = Buffer(tmp_path / "b.db", 1 << 26)
    buffer.put(lines)
    with Buffer(tmp_path / "copy.db", 1 << 26) as copy:  # the payloads as the uplink will encode them
        copy.put(lines)
        payload_bytes = 0
        while batch := copy.take(50):
            payload_bytes += len(encode_batch(batch, False)[0])
            copy.ack(batch.seq)
    with servers.mosquitto(tmp_path / "mosquitto") as broker:
        async with slow_link(broker.port) as link, checker(broker.host, broker.port, "edge/gw-1/data") as got:
            # aiomqtt's own timeout (connect_timeout_s) is 2 s: the last of eight 3.5 KB batches queued
            # at 8 KB/s is acknowledged about 3.5 s after it was sent, so a hidden PUBACK timeout shows.
            conf = UplinkSection(
                url=f"mqtt://127.0.0.1:{link.port}", batch_max_readings=50, connect_timeout_s=2
            )
            uplink = Uplink(conf, "gw-1", buffer, asyncio.Event())
            async with running(uplink):
                await wait_until(lambda: buffer.stats().readings == 0, 60 + READINGS / 10, "the drain")
            await wait_until(lambda: set(lines) <= set(got.lines), 10, "every reading at the subscriber")
    assert uplink.stats.connects == 1 and link.connections == 1, "a slow PUBACK is not a lost connection"
    assert uplink.stats.connect_failures == 0
    # Each batch crossed the link once: the payloads, plus MQTT headers, properties and the status.
    assert payload_bytes < link.upstream_bytes < payload_bytes * 1.1 + 2_000
    buffer.close()
