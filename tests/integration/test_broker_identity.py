"""A stolen gateway's credentials against the broker as shipped (deploy/mosquitto/): each attack of
issue 14 is refused and every other gateway's data arrives complete.

With Debian's Mosquitto 2.0.11 and the former password_file + acl_file, the first two attacks worked:
gateway A connecting with B's client id threw B off (8 times of 8), and A's SUBSCRIBE to the bridges'
shared subscription was granted, after which the broker gave A its turn of everyone's batches and then
dropped them at delivery (440 readings lost). The dynamic security plugin refuses both.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from edge_gateway.agent.buffer import Buffer
from edge_gateway.agent.config import UplinkSection
from edge_gateway.agent.uplink import Uplink
from edge_gateway.bridge.config import BridgeMqttSection
from edge_gateway.core.mqtt import Client, PublishRefused
from edge_gateway.core.validation import validate
from edge_gateway.core.wire import data_topic, status_topic
from tests.integration.mqtt_checker import running, wait_until
from tests.integration.shipped_broker import ShippedBroker, shipped_broker

pytestmark = pytest.mark.integration

GATEWAYS = ("gw-a", "gw-b")
BRIDGE_USER = "edge-bridge"
# what src/edge_gateway/bridge/consumer.py subscribes
SHARED_DATA = f"$share/{BridgeMqttSection().share_group}/edge/+/data"
NOT_AUTHORIZED = 0x87


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[ShippedBroker]:
    with shipped_broker(tmp_path, GATEWAYS, (BRIDGE_USER,)) as shipped:
        yield shipped


def login(broker: ShippedBroker, user: str, client_id: str) -> dict[str, Any]:
    return {
        "hostname": broker.server.host,
        "port": broker.server.port,
        "identifier": client_id,
        "username": user,
        "password": broker.password(user),
        "tls_context": broker.tls_context(),
        "protocol": aiomqtt.ProtocolVersion.V5,
    }


@dataclass
class Received:
    lines: list[str] = field(default_factory=list)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def bridge_reader(
    broker: ShippedBroker, client_id: str, topic: str = SHARED_DATA
) -> AsyncIterator[Received]:
    """A consumer with the bridge's identity and subscription (not its InfluxDB side)."""
    received = Received()

    async def read() -> None:
        async with aiomqtt.Client(**login(broker, BRIDGE_USER, client_id)) as client:
            await client.subscribe(topic, qos=1)
            received.subscribed.set()
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                received.lines.extend(message.payload.decode().splitlines())

    task = asyncio.create_task(read())
    try:
        await asyncio.wait_for(received.subscribed.wait(), 20)
        yield received
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def gateway(broker: ShippedBroker, gateway_id: str, tmp_path: Path) -> tuple[Uplink, Buffer]:
    (tmp_path / f"{gateway_id}.pw").write_text(broker.password(gateway_id) + "\n")
    conf = validate(  # reads password_file
        UplinkSection,
        {
            "url": f"mqtts://{broker.server.host}:{broker.server.port}",
            "ca_file": broker.tls.ca_cert,
            "username": gateway_id,
            "password_file": tmp_path / f"{gateway_id}.pw",
            "batch_max_readings": 10,
        },
    )
    buffer = Buffer(tmp_path / f"{gateway_id}.db", 1 << 22)
    return Uplink(conf, gateway_id, buffer, asyncio.Event()), buffer


def readings(gateway_id: str, first: int, count: int) -> list[str]:
    return [f"ap,device={gateway_id}-ap up=true {t}" for t in range(first, first + count)]


async def test_a_gateway_cannot_take_over_another_gateways_client_id(
    tmp_path: Path, broker: ShippedBroker
) -> None:
    uplink, buffer = gateway(broker, "gw-b", tmp_path)
    sent = readings("gw-b", 1, 50)
    async with bridge_reader(broker, "edge-bridge-1") as got, running(uplink):
        buffer.put(sent[:25])
        await wait_until(lambda: len(got.lines) >= 25, 20, "gw-b's first readings")
        for _ in range(8):
            with pytest.raises(aiomqtt.MqttError, match="Not authorized"):
                async with aiomqtt.Client(**login(broker, "gw-a", "gw-b")):
                    pass
        buffer.put(sent[25:])
        uplink.wakeup.set()
        await wait_until(lambda: len(got.lines) >= len(sent), 20, "gw-b's later readings")
    assert sorted(got.lines) == sorted(sent)
    assert uplink.stats.connects == 1  # never thrown off
    buffer.close()


async def test_only_the_bridge_identity_joins_the_bridges_shared_subscription(
    tmp_path: Path, broker: ShippedBroker
) -> None:
    uplink, buffer = gateway(broker, "gw-b", tmp_path)
    sent = readings("gw-b", 1, 200)
    async with (
        bridge_reader(broker, "edge-bridge-1") as first,
        bridge_reader(broker, "edge-bridge-2") as second,
        bridge_reader(broker, "edge-bridge-1-alerts", "edge/+/data") as alert_feed,  # not shared
        aiomqtt.Client(**login(broker, "gw-a", "gw-a")) as thief,
    ):
        for topic in (SHARED_DATA, "$share/other/edge/+/data", "edge/gw-b/data", "edge/#", "#"):
            granted = await thief.subscribe(topic, qos=1)
            assert [code if isinstance(code, int) else code.value for code in granted] == [NOT_AUTHORIZED], (
                topic
            )
        async with running(uplink):
            buffer.put(sent)
            await wait_until(lambda: len(first.lines) + len(second.lines) >= len(sent), 20, "every reading")
            await wait_until(lambda: len(alert_feed.lines) >= len(sent), 20, "the alert engine's copy")
    assert sorted(first.lines + second.lines) == sorted(sent)  # split between the bridges, none lost
    assert first.lines and second.lines
    assert sorted(alert_feed.lines) == sorted(sent)  # each bridge's alert engine reads the whole stream
    buffer.close()


async def test_a_gateway_cannot_publish_on_another_gateways_topics(
    tmp_path: Path, broker: ShippedBroker
) -> None:
    uplink, buffer = gateway(broker, "gw-b", tmp_path)
    sent = readings("gw-b", 1, 30)
    forged = "ap,device=gw-b-ap up=false 2"
    async with (
        bridge_reader(broker, "edge-bridge-1") as got,
        bridge_reader(broker, "edge-bridge-status", "edge/+/status") as statuses,
        running(uplink),
    ):
        buffer.put(sent)
        await wait_until(lambda: len(got.lines) >= len(sent) and bool(statuses.lines), 20, "gw-b's data")
        async with Client(**login(broker, "gw-a", "gw-a")) as attacker:
            for topic, retain in ((data_topic("gw-b"), False), (status_topic("gw-b"), True)):
                with pytest.raises(PublishRefused, match="Not authorized"):
                    await attacker.publish_checked(topic, forged.encode(), qos=1, retain=retain)
            await attacker.publish_checked(data_topic("gw-a"), b"ap,device=gw-a-ap up=true 1", qos=1)
        await wait_until(lambda: any("gw-a-ap" in line for line in got.lines), 20, "gw-a's own reading")
    assert forged not in got.lines
    assert sorted(line for line in got.lines if "gw-b" in line) == sorted(sent)
    assert all('"gw-b"' in status and "up=false" not in status for status in statuses.lines)
    buffer.close()


async def test_a_removed_gateway_is_refused_at_once(tmp_path: Path, broker: ShippedBroker) -> None:
    """A stolen gateway: `edge-dynsec remove-gateway` ends its session and refuses it from then on."""
    uplink, buffer = gateway(broker, "gw-a", tmp_path)
    async with running(uplink):
        await wait_until(lambda: uplink.stats.connected, 20, "gw-a connected")
        broker.dynsec("remove-gateway", "gw-a")
        await wait_until(lambda: uplink.stats.connect_failures >= 1, 20, "gw-a refused")
    assert not uplink.stats.connected
    buffer.close()


def test_edge_dynsec_fails_loudly_on_an_error_of_the_broker(broker: ShippedBroker) -> None:
    """mosquitto_ctrl exits 0 on "Client already exists": the script must not, or a typo'd id in a
    provisioning run would pass unnoticed."""
    with pytest.raises(subprocess.CalledProcessError) as refused:
        broker.dynsec("add-gateway", "gw-a", password="another-pw")
    assert "already exists" in refused.value.stderr
    with pytest.raises(subprocess.CalledProcessError):
        broker.dynsec("add-gateway", "gw-c")  # no password on stdin
