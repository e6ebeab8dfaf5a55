"""`edge maintenance` against a real Alertmanager: the silence is created with its matcher, end time
and reason, it silences a matching alert, is listed while active, and can be lifted early."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge_gateway.agent.maintenance import parse_duration
from edge_gateway_dev import servers

pytestmark = pytest.mark.integration


def edge(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "edge_gateway.cli.main", "maintenance", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def api(server: servers.Server, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{server.url}/api/v2/{path}", data=data)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=5) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def test_a_device_is_silenced_for_two_hours_then_lifted(tmp_path: Path) -> None:
    with servers.alertmanager(tmp_path / "am") as am:
        url = ["--alertmanager-url", am.url]
        done = edge("start", "ap-alun-alun", "--for", "2h", "--reason", "replacing the PoE injector", *url)
        assert done.returncode == 0, done.stderr
        silence_id = done.stdout.split()[1].rstrip(":")
        (item,) = [s for s in api(am, "silences") if s["id"] == silence_id]
        assert item["status"]["state"] == "active"
        assert item["matchers"] == [
            {"name": "device", "value": "ap-alun-alun", "isRegex": False, "isEqual": True}
        ]
        assert item["comment"] == "maintenance: replacing the PoE injector"
        ends = datetime.fromisoformat(item["endsAt"].replace("Z", "+00:00"))
        assert timedelta(hours=1, minutes=59) < ends - datetime.now(UTC) <= timedelta(hours=2)
        now = datetime.now(UTC)
        alert = {"labels": {"alertname": "APDown", "device": "ap-alun-alun"}, "startsAt": now.isoformat()}
        api(am, "alerts", [alert, {**alert, "labels": {"alertname": "APDown", "device": "ap-other"}}])
        alerts = {a["labels"]["device"]: a["status"] for a in api(am, "alerts")}
        assert alerts["ap-alun-alun"]["state"] == "suppressed"
        assert alerts["ap-alun-alun"]["silencedBy"] == [silence_id]
        assert alerts["ap-other"]["state"] == "active"
        assert silence_id in edge("list", *url).stdout
        assert edge("end", silence_id, *url).returncode == 0
        assert silence_id not in edge("list", *url).stdout


def test_a_whole_site(tmp_path: Path) -> None:
    with servers.alertmanager(tmp_path / "am") as am:
        done = edge(
            "start",
            "Kejaksan",
            "--site",
            "--for",
            "30m",
            "--reason",
            "fibre works",
            "--alertmanager-url",
            am.url,
        )
        assert done.returncode == 0, done.stderr
        assert "site=Kejaksan" in edge("list", "--alertmanager-url", am.url).stdout


def test_bad_durations_and_no_alertmanager() -> None:
    assert parse_duration("1h30m") == timedelta(minutes=90)
    for text in ("2 hours", "0m", "8d", ""):
        with pytest.raises(ValueError):
            parse_duration(text)
    assert edge("start", "ap-1", "--for", "forever", "--reason", "x").returncode == 2
    port = servers.free_port()
    refused = edge(
        "start", "ap-1", "--for", "1h", "--reason", "x", "--alertmanager-url", f"http://127.0.0.1:{port}"
    )
    assert refused.returncode == 1 and "refused" in refused.stderr.lower()
