"""The alert rules exported for Grafana: every query runs on the real InfluxDB and finds what it should."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from typing import Any

import pytest

from bridge.alerts.grafana import DATASOURCE_UID, provisioning_text
from bridge.alerts.rules import load_rules
from edge import servers
from edge.cli import main
from tests.integration.helpers import influx_query

pytestmark = pytest.mark.integration


def write(influx: servers.Server, lines: list[str]) -> None:
    request = urllib.request.Request(
        f"{influx.url}/write?db=edge&precision=s", "\n".join(lines).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204


def exported(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["alerts", "export-grafana"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Generated") and text == provisioning_text(load_rules())
    result: dict[str, Any] = json.loads(text.split("\n", 1)[1])
    return result


def test_every_exported_query_runs_and_finds_its_alert(
    influxdb: servers.Server, capsys: pytest.CaptureFixture[str]
) -> None:
    urllib.request.urlopen(
        f"{influxdb.url}/query?" + urllib.parse.urlencode({"q": "CREATE DATABASE edge"}), data=b""
    )
    now = int(time.time())
    write(
        influxdb,
        [f"device_status,gateway=g,device=ap-1,kind=snmp,site=S up=false {now - i * 30}" for i in range(3)]
        + [
            f"device_status,gateway=g,device=pm-1,kind=modbus-rtu,site=S up=false,stuck=true {now - i * 30}"
            for i in range(3)
        ]
        + [
            f"gateway,gateway=g oldest_s=900 {now}",
            f"ap,gateway=g,device=ap-1,site=S cpu_pct=97,temp_c=71 {now}",
            f"ap_radio,gateway=g,device=ap-1,radio=wlan1,site=S clients=55i {now}",
            f"air_quality,gateway=g,sensor=pm-1,site=S pm25=55.5 {now}",
            f"noise,gateway=g,sensor=n-1,site=Pasar\\ Kanoman laeq_db=75 {now}",
            f"noise,gateway=g,sensor=n-2,site=Keraton\\ Kasepuhan laeq_db=65 {now}",
            f"noise,gateway=g,sensor=n-3,site=Taman\\ Sutera laeq_db=50 {now}",
        ],
    )
    rules = exported(capsys)["groups"][0]["rules"]
    assert len({rule["uid"] for rule in rules}) == len(rules)
    for rule in rules:
        query_step, _, threshold_step = rule["data"]
        assert query_step["datasourceUid"] == DATASOURCE_UID
        series = influx_query(influxdb.url, "edge", query_step["model"]["query"])
        evaluator = threshold_step["model"]["conditions"][0]["evaluator"]
        limit = evaluator["params"][0]
        values = [row[-1] for s in series for row in s["values"] if row[-1] is not None]
        crossing = [v for v in values if (v > limit if evaluator["type"] == "gt" else v < limit)]
        expected = 0 if rule["title"] == "NoiseOverLimit (Taman Sutera)" else 1
        assert len(crossing) == expected, f"{rule['title']}: {series}"
