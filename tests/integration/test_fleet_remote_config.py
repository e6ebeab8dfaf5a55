"""Signed remote configuration against Mosquitto as shipped (TLS, deploy/mosquitto/edge-dynsec roles) and
a real agent process: a good config is applied with the MQTT session kept, every bad one is refused,
counted and reported with the running config unchanged, a broken one rolls back by itself, and the
broker lets only the NOC publish configs and each gateway read only its own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.reasoncodes import ReasonCode

from edge_gateway.agent.remote_config import config_hash
from edge_gateway.bridge.config import BridgeMqttSection
from edge_gateway.bridge.fleet import read_statuses
from edge_gateway.bridge.fleet_sign import keygen, load_private_key, sign_config
from edge_gateway.core.mqtt import Client, PublishRefused
from edge_gateway_dev import servers
from tests.integration.fleet_helpers import MAX_BYTES, agent_config, login, pushed
from tests.integration.shipped_broker import ShippedBroker

pytestmark = [pytest.mark.integration, pytest.mark.fleet]


async def status_when(
    noc: BridgeMqttSection, condition: Callable[[dict[str, Any]], bool], timeout_s: float = 30
) -> dict[str, Any]:
    """gw-1's retained status once it meets `condition` (read again until then, under a deadline)."""
    async with asyncio.timeout(timeout_s):
        while not condition(status := (await read_statuses(noc, idle_s=0.3))["gw-1"]):
            pass
    return status


async def test_remote_config_is_applied_refused_and_rolled_back(
    tmp_path: Path, broker: ShippedBroker, snmpd: servers.Server
) -> None:
    keygen(tmp_path / "noc.key", tmp_path / "noc.pub")
    key, noc = load_private_key(tmp_path / "noc.key"), login(broker, "noc")
    ap = f"{snmpd.host}:{snmpd.port}"
    config = tmp_path / "edge.toml"
    config.write_text(agent_config(tmp_path, broker, {"ap-1": ap}))
    log = tmp_path / "agent.log"
    with servers.edge_process(["agent", "-c", str(config)], log) as agent:
        v2 = agent_config(tmp_path, broker, {"ap-1": ap, "ap-2": ap})
        assert await pushed(noc, sign_config(key, "gw-1", 2, v2), 2) == "applied version 2"
        status = (await read_statuses(noc))["gw-1"]
        assert status["config_version"] == 2 and status["config_hash"] == config_hash(v2)

        bad = {
            "signature": sign_config(Ed25519PrivateKey.generate(), "gw-1", 3, v2),
            "replay": sign_config(key, "gw-1", 1, v2),
            "malformed": sign_config(key, "gw-1", 3, v2)[:100],
            "oversized": sign_config(key, "gw-1", 3, v2 + "#" * MAX_BYTES),
            "invalid": sign_config(key, "gw-1", 3, v2.replace("interval_s = 1", 'interval_s = "fast"')),
        }
        for reason, payload in bad.items():
            version = 1 if reason == "replay" else 3
            said = await pushed(noc, payload, version)
            assert said.startswith("refused: "), (reason, said)
        status = (await read_statuses(noc))["gw-1"]
        assert status["config_refused"] == dict.fromkeys(bad, 1)
        assert status["config_version"] == 2 and status["config_hash"] == config_hash(v2)

        broken = agent_config(tmp_path, broker, {"ap-1": ap, "ap-2": ap, "ap-9": "127.0.0.1:9"})
        assert await pushed(noc, sign_config(key, "gw-1", 4, broken), 4) == "applied version 4"
        status = await status_when(noc, lambda got: got["config_outcome"] != "applied version 4")
        assert status["config_outcome"].startswith("rolled back: "), status
        assert status["config_version"] == 2 and status["config_hash"] == config_hash(v2)
        assert status["devices"]["snmp"].get("up", 0) >= 1
        assert agent.poll() is None
    assert log.read_text().count("uplink connected") == 1  # the MQTT session was never dropped


async def test_only_the_noc_publishes_configs_and_each_gateway_reads_only_its_own(
    broker: ShippedBroker,
) -> None:
    async with Client(identifier="gw-2", **_options(login(broker, "gw-2"))) as gateway:
        for topic in ("edge/gw-1/config", "edge/gw-2/config"):
            with pytest.raises(PublishRefused):
                await gateway.publish_checked(topic, b"{}", qos=1, retain=True, timeout_s=10)
        granted = await gateway.subscribe("edge/gw-1/config", qos=1)
        assert all(_code(code) >= 0x80 for code in granted)
        granted = await gateway.subscribe("edge/gw-2/config", qos=1)
        assert all(_code(code) < 0x80 for code in granted)
    async with Client(identifier="noc-1", **_options(login(broker, "noc"))) as noc:
        await noc.publish_checked("edge/gw-1/config", b"{}", qos=1, retain=True, timeout_s=10)
        with pytest.raises(PublishRefused):
            await noc.publish_checked("edge/gw-1/data", b"x", qos=1, timeout_s=10)


def _options(conn: BridgeMqttSection) -> dict[str, object]:
    from edge_gateway.core.mqtt import client_options

    return {**client_options(conn), "clean_start": True} | {"protocol": aiomqtt.ProtocolVersion.V5}


def _code(code: int | ReasonCode) -> int:
    return code if isinstance(code, int) else int(code.value)
