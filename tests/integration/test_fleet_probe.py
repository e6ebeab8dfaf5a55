"""`edge fleet probe` (issue 19.4) against Mosquitto as shipped (TLS, the roles of edge-dynsec), a real
agent process and a real snmpd: the answer arrives; a device not in the gateway's config is refused; a
second probe while one runs is refused as busy; another gateway can neither read the requests nor
answer them, and no gateway can ask."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import time
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes

from edge_gateway.bridge.fleet_probe import sign_probe
from edge_gateway.bridge.fleet_sign import keygen, load_private_key
from edge_gateway.core.mqtt import Client, PublishRefused, properties
from edge_gateway_dev import servers
from tests.integration.fleet_helpers import agent_config, login
from tests.integration.shipped_broker import ShippedBroker
from tests.integration.test_fleet_cli import bridge_config, edge, online, statuses_when
from tests.integration.test_fleet_remote_config import _code, _options

pytestmark = [pytest.mark.integration, pytest.mark.fleet]


async def two_at_once(broker: ShippedBroker, key_path: Path, devices: list[str]) -> list[dict[str, object]]:
    """Both requests published back to back on one connection; the answers by request order."""
    key, answers = load_private_key(key_path), {}
    correlations = [secrets.token_bytes(8) for _ in devices]
    async with Client(identifier="noc-2", **_options(login(broker, "noc"))) as noc:
        await noc.subscribe("edge/gw-1/probe/response", qos=1)
        for device, correlation in zip(devices, correlations, strict=True):
            props = properties(PacketTypes.PUBLISH)
            props.ResponseTopic, props.CorrelationData = "edge/gw-1/probe/response", correlation
            request = sign_probe(key, "gw-1", device, time.time() + 60)
            await noc.publish_checked(
                "edge/gw-1/probe/request", request, qos=1, properties=props, timeout_s=10
            )
        async with asyncio.timeout(60):
            async for message in noc.messages:
                assert isinstance(message.payload, bytes)
                answers[message.properties.CorrelationData] = json.loads(message.payload)  # type: ignore[union-attr]
                if len(answers) == len(devices):
                    break
    return [answers[c] for c in correlations]


def test_probe_answers_refuses_unknown_and_concurrent(
    tmp_path: Path, broker: ShippedBroker, snmpd: servers.Server
) -> None:
    keygen(tmp_path / "noc.key", tmp_path / "noc.pub")
    bridge = bridge_config(tmp_path, broker)
    config = tmp_path / "gw-1.toml"
    # ap-9 receives and never answers (no port unreachable either): its probe lasts its whole
    # timeout, so the second request, published right after the first, finds the desk busy
    mute = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mute.bind(("127.0.0.1", 0))
    devices = {"ap-1": f"{snmpd.host}:{snmpd.port}", "ap-9": f"127.0.0.1:{mute.getsockname()[1]}"}
    config.write_text(agent_config(tmp_path, broker, devices))
    with mute, servers.edge_process(["agent", "-c", str(config)], tmp_path / "gw-1.log"):
        statuses_when(broker, online("gw-1"))
        asked = edge("fleet", "probe", "gw-1", "ap-1", "-c", str(bridge))
        assert asked.returncode == 0, asked.stdout + asked.stderr
        lines = asked.stdout.splitlines()
        assert lines[0] == "gw-1 ap-1: up" and any(line.startswith("device_status,") for line in lines[1:])

        unknown = edge("fleet", "probe", "gw-1", "printer", "-c", str(bridge))
        assert unknown.returncode == 1
        assert unknown.stdout.strip() == "gw-1 printer: refused: no device named 'printer' in this config"

        slow, second = asyncio.run(two_at_once(broker, tmp_path / "noc.key", ["ap-9", "ap-1"]))
        assert slow["ok"] is True and slow["up"] is False, slow  # ap-9 is silent: the probe says it is down
        assert second == {
            "ok": False,
            "refused": "busy",
            "error": "a probe is already running on this gateway",
        }


async def test_another_gateway_cannot_read_or_answer_probes_and_no_gateway_can_ask(
    broker: ShippedBroker,
) -> None:
    async with Client(identifier="gw-2", **_options(login(broker, "gw-2"))) as gateway:
        granted = await gateway.subscribe("edge/gw-1/probe/request", qos=1)
        assert all(_code(code) >= 0x80 for code in granted)
        granted = await gateway.subscribe("edge/gw-2/probe/request", qos=1)
        assert all(_code(code) < 0x80 for code in granted)
        for topic in ("edge/gw-1/probe/response", "edge/gw-1/probe/request", "edge/gw-2/probe/request"):
            with pytest.raises(PublishRefused):
                await gateway.publish_checked(topic, b"{}", qos=1, timeout_s=10)
        await gateway.publish_checked("edge/gw-2/probe/response", b"{}", qos=1, timeout_s=10)
    async with Client(identifier="noc-1", **_options(login(broker, "noc"))) as noc:
        await noc.publish_checked("edge/gw-1/probe/request", b"{}", qos=1, timeout_s=10)
        granted = await noc.subscribe("edge/+/probe/response", qos=1)
        assert all(_code(code) < 0x80 for code in granted)
