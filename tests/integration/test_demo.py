"""`edge demo` as a new user runs it: the whole pipeline, and a summary counted from InfluxDB."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_demo_runs_the_pipeline_and_counts_from_influxdb(tmp_path: Path) -> None:
    summary_path = tmp_path / "summary.json"
    command = [
        sys.executable,
        "-m",
        "edge_gateway",
        "demo",
        "--duration",
        "25",
        "--summary-json",
        str(summary_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(summary_path.read_text())
    points = summary["points_per_measurement"]
    assert points["device_status"] >= 40 and points["ap"] >= 40 and points["ap_iface"] > 0
    assert points["gateway"] >= 1 and points["ingest"] >= 1
    assert len(summary["devices_seen"]) == 40 + 8 * 6 + 12  # APs (a dead one too), sensors, cameras
    cameras = [device for device in summary["devices_seen"] if "-cam-" in device]
    assert len(cameras) == 12 and "cbn-int-06-cam-1" in cameras  # the dead camera too, as down
    assert points["camera"] >= 11  # every live camera checked at least once, and stored by the bridge
    for measurement in ("air_quality", "weather", "noise", "traffic", "gps", "serial_bus"):
        assert points.get(measurement, 0) > 0, measurement
    assert len(summary["sites_seen"]) >= 5
    assert "the gateway's own page: http://127.0.0.1:" in result.stdout
    assert "src/edge_gateway/noc/provisioning" in result.stdout
    assert "APDown:ap-007" in summary["alerts_fired"]  # the AP the demo switches off
    assert "CameraFrozen:cbn-int-03-cam-2" in summary["alerts_fired"]  # its picture stands still
    assert "CameraDown:cbn-int-06-cam-1" in summary["alerts_fired"]  # nothing answers on its RTSP port
    report = Path(summary["report_html"])  # the city report, written at the end
    assert report.is_file() and "APDown" in report.read_text() and 'id="map"' in report.read_text()


def test_ctrl_c_stops_everything_the_demo_started() -> None:
    """Started as a background job of a script starts it (`cmd &` without job control): with SIGINT
    ignored, which Python keeps unless the program installs its own handler; the demo must stop anyway."""
    demo_argv = [sys.executable, "-m", "edge_gateway", "demo", "--duration", "600"]
    command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *demo_argv]  # exec: the demo keeps this PID
    demo = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert demo.stdout is not None
    workdir = demo.stdout.readline().split("working in ")[1].split(" ")[0]
    for line in demo.stdout:  # the first progress line with points stored: everything is up and running
        if "points stored" in line and not line.split(": ", 1)[1].startswith("0 points"):
            break
    started = subprocess.run(
        ["pgrep", "-f", workdir], capture_output=True, text=True, check=False
    ).stdout.split()
    assert len(started) >= 6  # servers, fleet, agent, bridge
    demo.send_signal(signal.SIGINT)
    rest, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0 and "interrupted; stopping" in rest
    left = subprocess.run(
        ["pgrep", "-f", workdir], capture_output=True, text=True, check=False
    ).stdout.split()
    assert left == [], f"still running: {left}"
