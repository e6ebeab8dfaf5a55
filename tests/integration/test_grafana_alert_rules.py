"""The alert rules exported for Grafana: every query runs on the real InfluxDB and finds what it should."""

from __future__ import annotations

import re
import time
import urllib.parse
import urllib.request
from typing import Any

import pytest
import yaml

from edge_gateway.alerts.grafana import DATASOURCE_UID, provisioning_text
from edge_gateway.alerts.rules import load_rules
from edge_gateway.cli.main import main
from edge_gateway_dev import servers
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
    result: dict[str, Any] = yaml.safe_load(text)
    return result


def crossings(influx: servers.Server, rule: dict[str, Any]) -> list[dict[str, str]]:
    """The series (by their tags) for which the exported rule's query crosses its threshold."""
    query_step, _, threshold_step = rule["data"]
    assert query_step["datasourceUid"] == DATASOURCE_UID
    evaluator = threshold_step["model"]["conditions"][0]["evaluator"]
    limit = evaluator["params"][0]
    found = []
    for series in influx_query(influx.url, "edge", query_step["model"]["query"]):
        values = [row[-1] for row in series["values"] if row[-1] is not None]
        if any((v > limit if evaluator["type"] == "gt" else v < limit) for v in values):
            found.append({k: v for k, v in series.get("tags", {}).items() if v})
    return found


def create_database(influx: servers.Server) -> None:
    urllib.request.urlopen(
        f"{influx.url}/query?" + urllib.parse.urlencode({"q": "CREATE DATABASE edge"}), data=b""
    )


def test_every_exported_query_runs_and_finds_its_alert(
    influxdb: servers.Server, capsys: pytest.CaptureFixture[str]
) -> None:
    create_database(influxdb)
    now = int(time.time())

    def polls(device: str, states: list[str], kind: str = "snmp") -> list[str]:
        """Statuses, oldest first, 30 s apart up to now: `up`, `silent` or `late`."""
        fields = {"up": "up=true", "silent": 'up=false,error="NoResponse: no response"'}
        fields["late"] = 'up=false,error="deadline exceeded"'
        return [
            f"device_status,gateway=g,device={device},kind={kind},site=S {fields[state]} {now - 30 * i}"
            for i, state in enumerate(reversed(states))
        ]

    write(
        influxdb,
        polls("ap-1", ["up", "silent", "silent", "silent"])
        + polls("ap-slow", ["late", "late", "late"])
        + polls("ap-back", ["silent", "silent", "silent", "up"])  # answered again: not down
        + polls("ap-fine", ["up", "up", "up"])
        + polls("pm-1", ["silent", "silent", "silent"], kind="modbus-rtu")
        + polls("cam-1", ["silent", "silent", "silent"], kind="camera")  # CameraDown, not SensorDown
        + [
            f"device_status,gateway=g,device=pm-1,kind=modbus-rtu,site=S stuck=true {now - i}"
            for i in range(3)
        ]
        + [
            f"gateway,gateway=g oldest_s=900 {now}",
            f"camera,gateway=g,device=cam-1,site=S frozen=true,clock_drift_s=-40,clock_error_s=40 {now}",
            f"ap,gateway=g,device=ap-1,site=S cpu_pct=97,temp_c=71 {now}",
            f"ap_radio,gateway=g,device=ap-1,radio=wlan1,site=S clients=55i {now}",
            f"air_quality,gateway=g,sensor=pm-1,site=S pm25=80 {now - 3600}",
            f"air_quality,gateway=g,sensor=pm-1,site=S pm25=40 {now}",  # the daily mean is 60
            f"noise,gateway=g,sensor=n-1,site=Pasar\\ Kanoman laeq_db=75 {now}",
            f"noise,gateway=g,sensor=n-2,site=Keraton\\ Kasepuhan laeq_db=65 {now}",
            f"noise,gateway=g,sensor=n-3,site=Taman\\ Sutera laeq_db=50 {now}",
        ],
    )
    rules = exported(capsys)["groups"][0]["rules"]
    assert len({rule["uid"] for rule in rules}) == len(rules)
    found = {rule["title"]: crossings(influxdb, rule) for rule in rules}
    assert [s["device"] for s in found["APDown"]] == ["ap-1"]  # not ap-back, not the late ap-slow
    assert [s["device"] for s in found["APLate"]] == ["ap-slow"]
    assert [s["sensor"] for s in found["PM25Unhealthy"]] == ["pm-1"]  # the mean, not the last 40
    assert found["NoiseOverLimit (Taman Sutera)"] == []
    for title, series in found.items():
        if title not in ("APDown", "APLate", "NoiseOverLimit (Taman Sutera)"):
            assert len(series) == 1, f"{title}: {series}"


def test_nothing_wrong_is_no_alert_and_summaries_are_templated(
    influxdb: servers.Server, capsys: pytest.CaptureFixture[str]
) -> None:
    """With every device up (and with no data at all) no exported rule fires: none alerts on "no
    data"; every summary placeholder is Grafana's label templating, of a label the query groups by."""
    create_database(influxdb)
    now = int(time.time())
    write(
        influxdb, [f"device_status,gateway=g,device=ap-{i},kind=snmp,site=S up=true {now}" for i in range(5)]
    )
    rules = exported(capsys)["groups"][0]["rules"]
    for rule in rules:
        assert rule["noDataState"] == "OK", rule["title"]
        assert crossings(influxdb, rule) == [], rule["title"]
        summary = rule["annotations"]["summary"]
        placeholders = re.findall(r"\{[^}]*\}+", summary)
        assert all(p.startswith("{{ ") and p.endswith(" }}") for p in placeholders), summary
        for label in re.findall(r"\$labels\.(\w+)", summary):
            assert f'"{label}"' in rule["data"][0]["model"]["query"].rsplit("GROUP BY", 1)[1]
