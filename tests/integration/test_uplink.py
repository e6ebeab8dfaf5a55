"""The uplink against a real Mosquitto: the wire format, and refusals and "no subscriber" keep the data."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from edge_gateway.agent.buffer import Buffer
from edge_gateway.agent.config import UplinkSection
from edge_gateway.agent.uplink import Uplink
from edge_gateway_dev import servers
from tests.integration.mqtt_checker import checker, running, wait_until

pytestmark = pytest.mark.integration

LINES = [f"ap_iface,device=ap-1,ifname=ether{i} in_octets={i}i {i}" for i in range(1, 6)]


@pytest.fixture
def acl_broker(tmp_path: Path) -> Iterator[servers.Server]:
    """A broker where only gateway `allowed-gw` may publish, like a per-gateway production ACL."""
    acl = tmp_path / "acl"
    acl.write_text("topic write edge/allowed-gw/#\ntopic read edge/#\n")
    with servers.mosquitto(tmp_path / "mosquitto", extra_config=f"acl_file {acl}\n") as server:
        yield server


async def test_batches_arrive_in_the_wire_format_and_leave_the_buffer(
    tmp_path: Path, acl_broker: servers.Server
) -> None:
    buffer = Buffer(tmp_path / "b.db", 1 << 20)
    buffer.put(LINES)
    uplink = Uplink(
        UplinkSection(url=acl_broker.url, batch_max_readings=3), "allowed-gw", buffer, asyncio.Event()
    )
    async with aiomqtt.Client(
        acl_broker.host, acl_broker.port, protocol=aiomqtt.ProtocolVersion.V5, identifier="reader"
    ) as reader:
        await reader.subscribe("edge/allowed-gw/#", qos=1)
        async with running(uplink):
            received: list[aiomqtt.Message] = []
            async with asyncio.timeout(20):
                async for message in reader.messages:
                    if str(message.topic).endswith("/data"):
                        received.append(message)
                    if len(received) == 2:
                        break
            await wait_until(lambda: buffer.stats().readings == 0)
    bodies = [bytes(m.payload).decode() for m in received if isinstance(m.payload, bytes)]
    assert "".join(bodies).splitlines() == LINES
    props = [dict(m.properties.UserProperty) for m in received]  # type: ignore[union-attr]
    assert props == [{"seq": "1", "n": "3", "v": "1"}, {"seq": "2", "n": "2", "v": "1"}]
    assert uplink.stats.published_readings == 5
    buffer.close()


async def test_refused_publish_keeps_the_batch_and_is_counted(
    tmp_path: Path, acl_broker: servers.Server
) -> None:
    buffer = Buffer(tmp_path / "b.db", 1 << 20)
    buffer.put(LINES)
    uplink = Uplink(UplinkSection(url=acl_broker.url), "other-gw", buffer, asyncio.Event())
    async with running(uplink):
        await wait_until(lambda: uplink.stats.refused_batches >= 2)
    assert buffer.stats().readings == len(LINES)
    assert uplink.stats.published_readings == 0
    batch = buffer.take(100)
    assert batch is not None and batch.seq == 1 and list(batch.lines) == LINES  # same seq when retried
    buffer.close()


async def test_status_is_retained_online_then_stopped_on_shutdown(
    tmp_path: Path, acl_broker: servers.Server
) -> None:
    buffer = Buffer(tmp_path / "b.db", 1 << 20)
    uplink = Uplink(UplinkSection(url=acl_broker.url), "allowed-gw", buffer, asyncio.Event())

    async def retained_status() -> str:
        async with aiomqtt.Client(
            acl_broker.host, acl_broker.port, protocol=aiomqtt.ProtocolVersion.V5
        ) as client:
            await client.subscribe("edge/allowed-gw/status", qos=1)
            async with asyncio.timeout(10):
                async for message in client.messages:
                    return bytes(message.payload).decode()
        raise AssertionError("no status message")

    async with running(uplink):
        await wait_until(lambda: uplink.stats.connected)
        assert '"state": "online"' in await retained_status()
    assert '"state": "stopped"' in await retained_status()  # planned: not the Last Will's offline
    buffer.close()


async def test_shutdown_completes_when_the_broker_is_gone(tmp_path: Path) -> None:
    buffer = Buffer(tmp_path / "b.db", 1 << 20)
    with servers.mosquitto(tmp_path / "mosquitto") as broker:
        uplink = Uplink(UplinkSection(url=broker.url), "gw-1", buffer, asyncio.Event())
        task = asyncio.create_task(uplink.run())
        await wait_until(lambda: uplink.stats.connected)
    task.cancel()  # the broker is stopped: the offline status cannot be sent, the stop must still happen
    async with asyncio.timeout(15):
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert task.done()
    buffer.close()


async def test_an_idle_uplink_notices_a_lost_broker_and_reconnects(tmp_path: Path) -> None:
    buffer = Buffer(tmp_path / "b.db", 1 << 20)
    port = servers.free_port()
    uplink = Uplink(
        UplinkSection(url=f"mqtt://127.0.0.1:{port}", reconnect_max_s=1), "gw-1", buffer, asyncio.Event()
    )
    async with running(uplink):
        with servers.mosquitto(tmp_path / "mosquitto", port=port):
            await wait_until(lambda: uplink.stats.connected, 20, "connected")
        # Nothing to send: only watching the connection can tell the page and /healthz the truth.
        await wait_until(lambda: not uplink.stats.connected, 5, "the loss noticed while idle")
        with servers.mosquitto(tmp_path / "mosquitto", port=port) as broker:
            await wait_until(lambda: uplink.stats.connected, 20, "connected again")
            async with checker(broker.host, broker.port, "edge/gw-1/data"):
                buffer.put(LINES)
                uplink.wakeup.set()
                await wait_until(lambda: buffer.stats().readings == 0, 20, "published after the reconnect")
    buffer.close()


async def test_no_subscriber_keeps_the_batches_until_one_subscribes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """PUBACK 0x10 is a success code, but nobody got the batch: it stays, and leaves once heard."""
    buffer = Buffer(tmp_path / "b.db", 1 << 20)
    buffer.put(LINES)
    with servers.mosquitto(tmp_path / "mosquitto") as broker:
        conf = UplinkSection(url=broker.url, batch_max_readings=2, reconnect_max_s=1)
        uplink = Uplink(conf, "gw-1", buffer, asyncio.Event())
        async with running(uplink):
            await wait_until(lambda: uplink.stats.undelivered_batches >= 3, 20, "three answers 0x10")
            assert buffer.stats().readings == len(LINES)
            assert uplink.stats.published_readings == 0
            async with checker(broker.host, broker.port, "edge/gw-1/data") as got:
                await wait_until(lambda: buffer.stats().readings == 0, 20, "the drain once subscribed")
                await wait_until(lambda: set(LINES) <= set(got.lines), 10, "every line at the subscriber")
    assert uplink.stats.published_readings == len(LINES)
    assert uplink.stats.connects == 1
    kept = [r for r in caplog.records if "no subscriber" in r.getMessage()]
    assert len(kept) == 1, "logged once per episode, not per batch"
    buffer.close()


async def test_no_subscriber_counts_as_delivered_only_when_configured(tmp_path: Path) -> None:
    buffer = Buffer(tmp_path / "b.db", 1 << 20)
    buffer.put(LINES)
    with servers.mosquitto(tmp_path / "mosquitto") as broker:
        conf = UplinkSection(url=broker.url, accept_no_subscribers=True)
        uplink = Uplink(conf, "gw-1", buffer, asyncio.Event())
        async with running(uplink):
            await wait_until(lambda: buffer.stats().readings == 0, 20, "the drain into no subscriber")
    assert uplink.stats.undelivered_batches == 0
    assert uplink.stats.published_readings == len(LINES)
    buffer.close()


async def more_published(uplink: Uplink, batches: int) -> None:
    start = uplink.stats.published_batches
    await wait_until(lambda: uplink.stats.published_batches >= start + batches, 20, "publishing")


async def test_reconnects_and_shutdown_leave_no_unretrieved_future(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The cause of a lost connection used to be left in a future nobody read: asyncio logged it."""
    buffer = Buffer(tmp_path / "b.db", 1 << 26)
    port = servers.free_port()
    conf = UplinkSection(url=f"mqtt://127.0.0.1:{port}", batch_max_readings=50, reconnect_max_s=1)
    uplink = Uplink(conf, "gw-1", buffer, asyncio.Event())

    async def feed() -> None:
        for second in itertools.count():
            buffer.put([f"m,device=d v={second}i {second * 1000 + i}" for i in range(200)])
            uplink.wakeup.set()
            await asyncio.sleep(0.01)

    async with running(uplink):
        feeding = asyncio.create_task(feed())
        for restart in range(3):  # stopped while batches are on the wire
            with servers.mosquitto(tmp_path / "mosquitto", port=port) as broker:
                async with checker(broker.host, broker.port, "edge/gw-1/data"):
                    await more_published(uplink, 5)
            await wait_until(lambda: not uplink.stats.connected, 10, f"loss {restart} noticed")
        feeding.cancel()
    gc.collect()
    await asyncio.sleep(0)
    assert uplink.stats.connects == 3
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
    buffer.close()
