"""Alerts end to end: agent -> Mosquitto -> bridge (rules) -> Alertmanager, all real processes."""

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
from tests.integration.helpers import influx_query, wait_for

pytestmark = pytest.mark.integration


def active_alerts(am: servers.Server) -> dict[str, dict[str, Any]]:
    with urllib.request.urlopen(f"{am.url}/api/v2/alerts", timeout=5) as response:
        return {a["labels"]["alertname"]: a for a in json.load(response)}


def test_ap_down_fires_then_the_gateways_last_will_inhibits_it(
    tmp_path: Path, mosquitto: servers.Server, influxdb: servers.Server, snmpd: servers.Server
) -> None:
    # No notifications needed: the receivers have no endpoints.
    with servers.alertmanager(tmp_path / "am", servers.shipped_alertmanager_config("1s")) as am:
        agent_conf, bridge_conf = tmp_path / "edge.toml", tmp_path / "bridge.toml"
        agent_conf.write_text(
            f'[gateway]\nid = "gw-a"\n[uplink]\nurl = "{mosquitto.url}"\nkeepalive_s = 5\n'
            f'[buffer]\npath = "{tmp_path}/b.db"\n[status]\nenabled = false\n'
            f'[[snmp.devices]]\nname = "ap-live"\nhost = "{snmpd.host}:{snmpd.port}"\ncommunity = "public"\n'
            "interval_s = 1\n"
            f'[[snmp.devices]]\nname = "ap-dead"\nhost = "127.0.0.1:{servers.free_port(socket.SOCK_DGRAM)}"\n'
            'community = "public"\ninterval_s = 1\ntimeout_s = 0.2\nretries = 0\n'
        )
        bridge_conf.write_text(
            f'[mqtt]\nurl = "{mosquitto.url}"\n[influxdb]\nurl = "{influxdb.url}"\ndatabase = "edge"\n'
            f'[bridge]\ndead_letter_path = "{tmp_path}/dead.jsonl"\nlisten_port = 0\n'
            f'[alerts]\nalertmanager_url = "{am.url}"\nevaluate_every_s = 1\n'
        )
        logs = (tmp_path / "agent.log", tmp_path / "bridge.log")
        with servers.edge_process(["bridge", "-c", str(bridge_conf)], logs[1]):
            with servers.edge_process(["agent", "-c", str(agent_conf)], logs[0]) as agent:
                fired = wait_for(lambda: active_alerts(am).get("APDown"), 40, "APDown in Alertmanager", logs)
                assert fired["labels"]["device"] == "ap-dead" and fired["labels"]["gateway"] == "gw-a"
                assert fired["status"]["state"] == "active"
                os.kill(agent.pid, signal.SIGKILL)  # the broker publishes its Last Will after the keepalive
                agent.wait()

            def inhibited() -> dict[str, Any] | None:
                alerts = active_alerts(am)
                down = alerts.get("APDown", {}).get("status", {})
                return alerts if "GatewayOffline" in alerts and down.get("state") == "suppressed" else None

            alerts = wait_for(inhibited, 40, "GatewayOffline inhibiting APDown", logs)
            assert alerts["GatewayOffline"]["labels"]["gateway"] == "gw-a"
            assert "ap-live" not in json.dumps(alerts)  # the live AP never alerted

            def recorded() -> set[str] | None:
                query = 'SELECT last("firing") FROM "alerts" GROUP BY "alertname"'
                names = {s["tags"]["alertname"] for s in influx_query(influxdb.url, "edge", query)}
                return names if names >= {"APDown", "GatewayOffline"} else None

            # The bridge writes an alert's point after it has sent the alert to Alertmanager.
            wait_for(recorded, 20, "APDown and GatewayOffline in the alerts measurement", logs)
