"""Two bridges give exactly the alerts one bridge gives (real Mosquitto, InfluxDB, Alertmanager).

The bridges share the data stream (a shared subscription: each stores about half of a gateway's
messages), so an alert engine fed only by its bridge's share would count half the failed polls and
never reach `for_cycles`. Four failed polls, one per message, make the difference: shared two and
two, neither share alone fires; the whole stream fires in every bridge.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes

from edge_gateway.core.mqtt import properties
from edge_gateway_dev import servers
from tests.integration.helpers import influx_query, wait_for

pytestmark = pytest.mark.integration

POLLS = 4
STATES = {
    "ap-mute": 'up=false,error="NoResponse: no response"',
    "ap-slow": 'up=false,error="deadline exceeded"',
    "ap-fine": "up=true",
}


async def publish_polls(broker: servers.Server, gateway: str) -> None:
    """`POLLS` wire-format batches, one poll of every AP in each, 10 s apart up to now."""
    now_ns = time.time_ns()
    async with aiomqtt.Client(broker.host, broker.port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        for seq in range(1, POLLS + 1):
            time_ns = now_ns - (POLLS - seq) * 10 * 10**9
            lines = [
                f"device_status,gateway={gateway},device={ap},kind=snmp,site=S {fields} {time_ns}"
                for ap, fields in STATES.items()
            ]
            props = properties(PacketTypes.PUBLISH)
            props.UserProperty = [("seq", str(seq)), ("n", str(len(lines))), ("v", "1")]
            props.ContentType = "text/plain; charset=utf-8"
            body = ("\n".join(lines) + "\n").encode()
            await client.publish(f"edge/{gateway}/data", body, qos=1, properties=props)


def alerts_in(am: servers.Server) -> set[tuple[tuple[str, str], ...]]:
    with urllib.request.urlopen(f"{am.url}/api/v2/alerts", timeout=5) as response:
        return {tuple(sorted(a["labels"].items())) for a in json.load(response)}


def stored_alerts(influx: servers.Server, database: str) -> set[tuple[str, str, bool]]:
    query = 'SELECT last("firing") AS firing FROM "alerts" GROUP BY "alertname", "device"'
    return {
        (s["tags"]["alertname"], s["tags"]["device"], s["values"][0][1])
        for s in influx_query(influx.url, database, query)
    }


def run_bridges(
    count: int, tmp_path: Path, broker: servers.Server, influx: servers.Server, subscriptions: Path
) -> tuple[set[Any], set[Any]]:
    """Start `count` bridges, wait until each is subscribed, publish the polls, and return what
    Alertmanager and the `alerts` measurement hold once the verdict is in."""
    work = tmp_path / f"bridges-{count}"
    database, gateway = f"edge{count}", f"gw-{count}"
    config = servers.shipped_alertmanager_config()
    with servers.alertmanager(work / "am", config) as am, contextlib.ExitStack() as stack:
        logs = []
        for index in range(count):
            conf, log = work / f"bridge-{index}.toml", work / f"bridge-{index}.log"
            conf.write_text(
                f'[mqtt]\nurl = "{broker.url}"\nclient_id = "b{count}-{index}"\nshare_group = "g{count}"\n'
                f'[influxdb]\nurl = "{influx.url}"\ndatabase = "{database}"\n'
                f'[bridge]\ndead_letter_path = "{work}/dead-{index}.jsonl"\nlisten_port = 0\n'
                f'[alerts]\nalertmanager_url = "{am.url}"\nevaluate_every_s = 1\n'
            )
            stack.enter_context(servers.edge_process(["bridge", "-c", str(conf)], log))
            logs.append(log)

        def subscribed() -> bool:
            text = subscriptions.read_text(errors="replace") if subscriptions.exists() else ""
            return all(
                f"b{count}-{i}-alerts 1 edge/+/data" in text and f"b{count}-{i} 1 $share/g{count}" in text
                for i in range(count)
            )

        wait_for(subscribed, 30, f"{count} bridges subscribed", (broker.log_path, *logs))
        asyncio.run(publish_polls(broker, gateway))
        expected_names = {"APDown", "APLate"}

        def verdict() -> set[Any] | None:
            names = {dict(labels)["alertname"] for labels in alerts_in(am)}
            stored = {name for name, _, firing in stored_alerts(influx, database) if firing}
            return alerts_in(am) if names == expected_names == stored else None

        wait_for(verdict, 40, f"APDown and APLate with {count} bridge(s)", (broker.log_path, *logs))
        in_am = {tuple((k, v) for k, v in labels if k != "gateway") for labels in alerts_in(am)}
        return in_am, stored_alerts(influx, database)


def test_two_bridges_give_exactly_the_alerts_of_one(tmp_path: Path, influxdb: servers.Server) -> None:
    # Subscriptions logged to a file (flushed, unlike stdout), so the test knows when the bridges listen.
    subscriptions = tmp_path / "subscriptions.log"
    extra = f"log_dest file {subscriptions}\nlog_type subscribe\n"
    with servers.mosquitto(tmp_path / "mosquitto", extra) as broker:
        one = run_bridges(1, tmp_path, broker, influxdb, subscriptions)
        two = run_bridges(2, tmp_path, broker, influxdb, subscriptions)
    assert one == two
    in_am, stored = one
    assert {dict(labels)["device"] for labels in in_am} == {"ap-mute", "ap-slow"}
    assert stored == {("APDown", "ap-mute", True), ("APLate", "ap-slow", True)}
