"""Issue 19 at scale: 20 real agent processes (each polling one AP of a real snmpd, then two after a push)
into one Mosquitto and two bridges with their alert engines, storing into InfluxDB.

Real agents rather than a wire-level load generator: what is under test is the fleet path end to end
(the inventory each agent builds, the signed config each one checks and applies, its buffer and
uplink), which a generator would only imitate. One agent costs about 60 MB and a little CPU at a 2 s
poll, so 20 fit beside the rest of the suite. `EDGE_TEST_FLEET_GATEWAYS` runs more (or fewer).

What it proves: the inventory lists all of them, a push goes to two canaries first and then to the
rest, and every reading the broker took from the agents (seen by an independent subscriber) is
stored in InfluxDB exactly once by the two bridges sharing the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edge_gateway.bridge.config import BridgeMqttSection
from edge_gateway.bridge.fleet import read_statuses
from edge_gateway.bridge.fleet_sign import keygen
from edge_gateway.core.lineproto import parse
from edge_gateway_dev import servers
from tests.integration.helpers import influx_query, wait_for
from tests.integration.mqtt_checker import checker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.fleet]

COUNT = int(os.environ.get("EDGE_TEST_FLEET_GATEWAYS", "20"))
GATEWAYS = [f"gw-{i:02d}" for i in range(1, COUNT + 1)]
DATABASE = "fleet"


def agent_config(tmp_path: Path, broker: servers.Server, gateway: str, aps: list[str], ap: str) -> str:
    text = f'[gateway]\nid = "{gateway}"\n[uplink]\nurl = "{broker.url}"\n'
    text += f'[buffer]\npath = "{tmp_path}/{gateway}/buffer.db"\n[status]\nenabled = false\n'
    text += f'[remote_config]\nenabled = true\npublic_key_file = "{tmp_path}/noc.pub"\nrollback_after_s = 3\n'
    for name in aps:
        text += f'[[snmp.devices]]\nname = "{name}"\nhost = "{ap}"\ncommunity = "public"\n'
        text += "interval_s = 2\ntimeout_s = 1\nretries = 0\n"
    return text


def bridge_config(work: Path, index: int, broker: servers.Server, influx: servers.Server, am: str) -> Path:
    path = work / f"bridge-{index}.toml"
    path.write_text(
        f'[mqtt]\nurl = "{broker.url}"\nclient_id = "b-{index}"\nshare_group = "fleet"\n'
        f'[influxdb]\nurl = "{influx.url}"\ndatabase = "{DATABASE}"\n'
        f'[bridge]\ndead_letter_path = "{work}/dead-{index}.jsonl"\nlisten_port = 0\n'
        f'[alerts]\nalertmanager_url = "{am}"\nevaluate_every_s = 1\n'
        f'[fleet]\nexpected = {json.dumps(GATEWAYS)}\nkey_file = "{work}/noc.key"\n'
    )
    return path


def edge(*args: str) -> subprocess.CompletedProcess[str]:
    run = [sys.executable, "-m", "edge_gateway", *args]
    return subprocess.run(run, capture_output=True, text=True, timeout=120, check=False)


def stored_by_gateway(influx: servers.Server) -> dict[str, int]:
    query = "SELECT count(up) FROM device_status GROUP BY gateway"
    return {s["tags"]["gateway"]: int(s["values"][0][1]) for s in influx_query(influx.url, DATABASE, query)}


def on_wire_by_gateway(lines: list[str]) -> dict[str, int]:
    """Distinct device_status readings per gateway among the lines the broker delivered."""
    counts: dict[str, int] = {}
    for line in set(lines):
        if line.startswith("device_status,"):
            gateway = parse(line).tags["gateway"]
            counts[gateway] = counts.get(gateway, 0) + 1
    return counts


def polling(lines: list[str], device: str) -> set[str]:
    """The gateways with a reading of `device` among the latest lines."""
    readings = (parse(line) for line in lines[-4000:] if line.startswith("device_status,"))
    return {r.tags["gateway"] for r in readings if r.tags.get("device") == device}


async def test_twenty_gateways_inventory_staged_push_nothing_lost(
    tmp_path: Path, influxdb: servers.Server, snmpd: servers.Server
) -> None:
    keygen(tmp_path / "noc.key", tmp_path / "noc.pub")
    ap = f"{snmpd.host}:{snmpd.port}"
    subscriptions = tmp_path / "subscriptions.log"
    extra = f"log_dest file {subscriptions}\nlog_type subscribe\n"
    with (
        servers.mosquitto(tmp_path / "mosquitto", extra) as broker,
        servers.alertmanager(tmp_path / "am", servers.shipped_alertmanager_config()) as am,
        contextlib.ExitStack() as bridges,
    ):
        confs = [bridge_config(tmp_path, i, broker, influxdb, am.url) for i in range(2)]
        logs = tuple(tmp_path / f"bridge-{i}.log" for i in range(2))
        for conf, log in zip(confs, logs, strict=True):
            bridges.enter_context(servers.edge_process(["bridge", "-c", str(conf)], log))

        def subscribed() -> bool:
            text = subscriptions.read_text(errors="replace") if subscriptions.exists() else ""
            return all(f"b-{i} 1 $share/fleet/edge/+/data" in text for i in range(2))

        wait_for(subscribed, 30, "both bridges subscribed", (broker.log_path, *logs))
        noc = BridgeMqttSection(url=broker.url)
        async with checker(broker.host, broker.port, "edge/+/data") as wire:
            with contextlib.ExitStack() as agents:
                processes = []
                for gateway in GATEWAYS:
                    conf = tmp_path / f"{gateway}.toml"
                    conf.write_text(agent_config(tmp_path, broker, gateway, ["ap-1"], ap))
                    processes.append(
                        agents.enter_context(
                            servers.edge_process(["agent", "-c", str(conf)], tmp_path / f"{gateway}.log")
                        )
                    )

                async def inventory_complete() -> bool:
                    """Every gateway online with its one AP in its inventory (polled or not yet: the
                    status is published at connect, before the first poll, then every 60 s)."""
                    statuses = await read_statuses(noc, idle_s=0.3)
                    return all(
                        statuses.get(gw, {}).get("state") == "online"
                        and sum(statuses[gw].get("devices", {}).get("snmp", {}).values()) == 1
                        for gw in GATEWAYS
                    )

                async with asyncio.timeout(90):
                    while not await inventory_complete():
                        await asyncio.sleep(0.5)
                listed = await asyncio.to_thread(edge, "fleet", "status", "-c", str(confs[0]), "--json")
                rows = {row["gateway"]: row for row in json.loads(listed.stdout)}
                assert sorted(rows) == GATEWAYS and listed.returncode == 0, listed.stdout
                assert all(row["state"] == "online" and row["problems"] == [] for row in rows.values())

                group = tmp_path / "group.toml"
                group.write_text(agent_config(tmp_path, broker, "{gateway_id}", ["ap-1", "ap-2"], ap))
                args = ("--gateways", "gw-*", "-c", str(confs[1]), "--version", "2", "--canary", "2")
                pushed = await asyncio.to_thread(edge, "fleet", "push", str(group), *args, "--settle-s", "1")
                assert pushed.returncode == 0, pushed.stdout + pushed.stderr
                assert pushed.stdout.splitlines() == [f"{gw}: applied version 2" for gw in GATEWAYS]

                await wait_until(
                    lambda: polling(wire.lines, "ap-2") == set(GATEWAYS), 30, "ap-2 polled by every gateway"
                )
                for process in processes:  # all at once, the event loop (the subscriber) kept running
                    process.terminate()
                for process in processes:
                    assert await asyncio.to_thread(process.wait, 30) == 0

            # The agents stopped: the subscriber and the bridges drain what the broker took from them.
            sent: dict[str, int] = {}
            stored: dict[str, int] = {}

            async def all_stored() -> bool:
                sent.update(on_wire_by_gateway(wire.lines))
                stored.update(await asyncio.to_thread(stored_by_gateway, influxdb))
                return sorted(sent) == GATEWAYS and stored == sent

            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    while not await all_stored():
                        await asyncio.sleep(0.5)
        assert sorted(sent) == GATEWAYS and stored == sent
