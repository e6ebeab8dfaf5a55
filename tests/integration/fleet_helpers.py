"""Agent configs and logins for the fleet tests against Mosquitto as shipped."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from edge_gateway.bridge.config import BridgeMqttSection
from edge_gateway.bridge.fleet import push, wait_outcomes
from edge_gateway.core.config import Secret
from tests.integration.shipped_broker import ShippedBroker

MAX_BYTES = 8192


def login(broker: ShippedBroker, user: str) -> BridgeMqttSection:
    server = broker.server
    return BridgeMqttSection(
        url=f"mqtts://{server.host}:{server.port}",
        ca_file=broker.tls.ca_cert,
        username=user,
        password=Secret(broker.password(user)),
    )


def agent_config(
    tmp_path: Path,
    broker: ShippedBroker,
    devices: dict[str, str],
    gateway: str = "gw-1",
    url: str | None = None,
) -> str:
    """An agent config for `gateway` over TLS with its own login, remote config on, quick rollback."""
    (tmp_path / f"{gateway}.pw").write_text(broker.password(gateway) + "\n")
    url = url or f"mqtts://{broker.server.host}:{broker.server.port}"
    text = f'[gateway]\nid = "{gateway}"\n[uplink]\nurl = "{url}"\nca_file = "{broker.tls.ca_cert}"\n'
    text += f'username = "{gateway}"\npassword_file = "{tmp_path}/{gateway}.pw"\n'
    text += f'accept_no_subscribers = true\n[buffer]\npath = "{tmp_path}/{gateway}/buffer.db"\n'
    text += "[status]\nenabled = false\n"
    text += f'[remote_config]\nenabled = true\npublic_key_file = "{tmp_path}/noc.pub"\n'
    text += f"max_bytes = {MAX_BYTES}\nrollback_after_s = 3\n"
    for name, host in devices.items():
        text += f'[[snmp.devices]]\nname = "{name}"\nhost = "{host}"\ncommunity = "public"\n'
        text += "interval_s = 1\ntimeout_s = 0.5\nretries = 0\n"
    return text


async def pushed(noc: BridgeMqttSection, payload: bytes, version: int) -> str:
    """gw-1's outcome of `version`, pushed once the statuses are subscribed: an agent that answers
    and exits at once (a restart) replaces its retained answer with `stopped`."""
    subscribed, pushed_s = asyncio.Event(), time.time()
    outcomes = asyncio.create_task(wait_outcomes(noc, ["gw-1"], version, pushed_s, 30, subscribed))
    await subscribed.wait()
    await push(noc, {"gw-1": payload})
    return (await outcomes)["gw-1"]
