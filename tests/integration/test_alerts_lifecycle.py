"""What a gateway's life does to its alerts, with the real agent, Mosquitto, bridge and Alertmanager:
a device removed by a reload resolves its alert and leaves the agent's page; a planned stop pages
nobody and leaves the device's alert `unknown`, not resolved."""

from __future__ import annotations

import json
import os
import signal
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from edge_gateway_dev import servers
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration


def active_alerts(am: servers.Server) -> dict[str, dict[str, Any]]:
    with urllib.request.urlopen(f"{am.url}/api/v2/alerts", timeout=5) as response:
        return {a["labels"]["alertname"]: a for a in json.load(response)}


def page(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as response:
        result: dict[str, Any] = json.load(response)
        return result


def agent_config(path: Path, mosquitto: servers.Server, snmpd: servers.Server, port: int, dead: bool) -> None:
    text = (
        f'[gateway]\nid = "gw-life"\n[uplink]\nurl = "{mosquitto.url}"\n'
        f'[buffer]\npath = "{path.parent}/b.db"\n[status]\nlisten = "127.0.0.1:{port}"\n'
        f'[[snmp.devices]]\nname = "ap-live"\nhost = "{snmpd.host}:{snmpd.port}"\ncommunity = "public"\n'
        "interval_s = 1\n"
    )
    if dead:
        text += (
            f'[[snmp.devices]]\nname = "ap-dead"\nhost = "127.0.0.1:{servers.free_port(socket.SOCK_DGRAM)}"\n'
            'community = "public"\ninterval_s = 1\ntimeout_s = 0.2\nretries = 0\n'
        )
    path.write_text(text)


def test_removed_device_resolves_and_a_planned_stop_pages_nobody(
    tmp_path: Path, mosquitto: servers.Server, influxdb: servers.Server, snmpd: servers.Server
) -> None:
    with servers.alertmanager(tmp_path / "am", servers.shipped_alertmanager_config("1s")) as am:
        agent_conf, bridge_conf = tmp_path / "edge.toml", tmp_path / "bridge.toml"
        status_port = servers.free_port()
        agent_config(agent_conf, mosquitto, snmpd, status_port, dead=True)
        bridge_conf.write_text(
            f'[mqtt]\nurl = "{mosquitto.url}"\n[influxdb]\nurl = "{influxdb.url}"\ndatabase = "edge"\n'
            f'[bridge]\ndead_letter_path = "{tmp_path}/dead.jsonl"\nlisten_port = 0\n'
            f'[alerts]\nalertmanager_url = "{am.url}"\nevaluate_every_s = 1\n'
        )
        logs = (tmp_path / "agent.log", tmp_path / "bridge.log")
        with servers.edge_process(["bridge", "-c", str(bridge_conf)], logs[1]):
            with servers.edge_process(["agent", "-c", str(agent_conf)], logs[0]) as agent:
                wait_for(lambda: active_alerts(am).get("APDown"), 60, "APDown for ap-dead", logs)
                assert "ap-dead" in page(status_port)["devices"]

                agent_config(agent_conf, mosquitto, snmpd, status_port, dead=False)
                os.kill(agent.pid, signal.SIGHUP)  # ap-dead leaves the config
                wait_for(lambda: "APDown" not in active_alerts(am), 60, "APDown resolved", logs)
                assert "ap-dead" not in page(status_port)["devices"]
                assert "ap-live" in page(status_port)["devices"]

            agent_config(agent_conf, mosquitto, snmpd, status_port, dead=True)  # ap-dead is back
            with servers.edge_process(["agent", "-c", str(agent_conf)], logs[0]) as agent:
                wait_for(lambda: active_alerts(am).get("APDown"), 60, "APDown again", logs)
                agent.terminate()  # systemctl stop: a planned stop
                assert agent.wait(30) == 0

            def unknown() -> dict[str, Any] | None:
                down = active_alerts(am).get("APDown", {})
                return down if down.get("annotations", {}).get("state") == "unknown" else None

            # The bridge has taken the stop in: ap-dead cannot be seen, so its alert is unknown ...
            down = wait_for(unknown, 90, "APDown marked unknown after the stop", logs)
            assert down["status"]["state"] == "active"  # ... not resolved by missing data,
            assert "GatewayOffline" not in active_alerts(am)  # and nobody is paged for a planned stop
