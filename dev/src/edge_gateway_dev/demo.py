"""`edge demo`: the whole pipeline on loopback with real servers, and a summary counted from InfluxDB.

Starts Mosquitto and InfluxDB 1.x, the simulated fleet (`edge sim fleet`: access points of mixed
vendors answering real SNMP, a few faults switched on), then the agent and the bridge as separate
processes, exactly as they run in production. Prints progress while it runs; Ctrl-C (SIGINT), SIGTERM
or `--duration` ends it, and every process it started is stopped.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.parse
import urllib.request
import zoneinfo
from importlib.resources import files
from pathlib import Path
from typing import Any

import tomli_w

from edge_gateway.core import schema
from edge_gateway_dev import servers

DATABASE = "edge"
DASHBOARDS = Path(str(files("edge_gateway.noc")))
GATEWAY_ID = "cbn-gw-demo"
APS = 40
INTERSECTIONS = 8
CAMERAS = 12  # the city's CCTV cameras at its intersections (docs/cameras.md)
POLL_INTERVAL_S = 5
FAULTS = "ap-007:no_reply;ap-013:delay_ms=800;cbn-int-03-cam-2:frozen;cbn-int-06-cam-1:no_reply"
PROGRESS_EVERY_S = 5.0


def _query(url: str, query: str) -> list[dict[str, Any]]:
    body = _get_json(f"{url}/query?{urllib.parse.urlencode({'db': DATABASE, 'q': query})}") or {}
    return [series for result in body.get("results", []) for series in result.get("series", [])]


def summary(influx_url: str) -> dict[str, Any]:
    """Counted from InfluxDB itself: points per measurement, devices and sites seen."""
    points: dict[str, int] = {}
    for series in _query(influx_url, "SHOW MEASUREMENTS"):
        for (measurement,) in series["values"]:
            counted = _query(influx_url, f'SELECT count(*) FROM "{measurement}"')
            points[measurement] = (
                max((v for v in counted[0]["values"][0][1:] if v), default=0) if counted else 0
            )
    fired = _query(
        influx_url,
        f'SELECT "firing" FROM "{schema.ALERTS}" WHERE "firing" = true'
        ' GROUP BY "alertname", "device", "gateway"',
    )
    devices = _query(influx_url, f'SHOW TAG VALUES FROM "{schema.DEVICE_STATUS}" WITH KEY = "device"')
    sites = _query(influx_url, f'SHOW TAG VALUES FROM "{schema.DEVICE_STATUS}" WITH KEY = "site"')
    return {
        "points_per_measurement": points,
        "points_total": sum(points.values()),
        "devices_seen": sorted(v[1] for s in devices for v in s["values"]),
        "sites_seen": sorted(v[1] for s in sites for v in s["values"]),
        "alerts_fired": sorted(
            f"{s['tags']['alertname']}:{s['tags'].get('device') or s['tags'].get('gateway')}" for s in fired
        ),
    }


def _get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None


def _progress(status_url: str, influx_url: str, alertmanager_url: str) -> str:
    """One line of the live view: what the gateway's page, InfluxDB and Alertmanager say now."""
    status = _get_json(f"{status_url}/api/status") or {}
    devices = status.get("devices", {})
    up = sum(1 for device in devices.values() if device.get("up"))
    buffer = status.get("buffer", {})
    alerts = _get_json(f"{alertmanager_url}/api/v2/alerts") or []
    firing = sorted({a["labels"]["alertname"] for a in alerts if a["status"]["state"] == "active"})
    return (
        f"{summary(influx_url)['points_total']} points stored | {up}/{len(devices)} devices up | "
        f"buffer {buffer.get('readings', '-')} readings | uplink "
        f"{'up' if status.get('uplink', {}).get('connected') else 'down'} | "
        f"alerts: {', '.join(firing) or 'none'}"
    )


def _alertmanager_config() -> str:
    """The deployed routing and inhibition, grouped after 1 s instead of 30 s; receivers without
    endpoints: the demo notifies nobody."""
    return servers.shipped_alertmanager_config(group_wait="1s")


def _write_bridge_config(
    workdir: Path, mqtt: servers.Server, influx: servers.Server, am: servers.Server
) -> None:
    config = {
        "mqtt": {"url": mqtt.url},
        "influxdb": {"url": influx.url, "api": "v1", "database": DATABASE},
        "bridge": {"dead_letter_path": str(workdir / "dead-letters.jsonl"), "listen_port": 0},
        "alerts": {"alertmanager_url": am.url, "evaluate_every_s": 2},
    }
    (workdir / "bridge.toml").write_text(tomli_w.dumps(config))


def _spawn(stack: contextlib.ExitStack, workdir: Path, name: str, args: list[str]) -> subprocess.Popen[bytes]:
    log = (workdir / f"{name}.log").open("wb")
    stack.callback(log.close)
    command = [sys.executable, "-m", "edge_gateway", *args]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop() -> None:
        process.send_signal(signal.SIGINT)  # each of them stops cleanly on it, the fleet unplugs its ports
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    stack.callback(stop)
    return process


def _start_fleet(
    stack: contextlib.ExitStack, workdir: Path, mqtt: servers.Server, status_port: int
) -> subprocess.Popen[bytes]:
    config = workdir / "edge.toml"
    options = ["--aps", str(APS), "--intersections", str(INTERSECTIONS), "--seed", "1", "--faults", FAULTS]
    options += ["--cameras", str(CAMERAS)]
    options += ["--port-dir", str(workdir / "ports"), "--broker-url", mqtt.url]
    options += ["--gateway-id", GATEWAY_ID, "--interval-s", str(POLL_INTERVAL_S)]
    fleet = stack.enter_context(servers.fleet_process(config, options, workdir / "fleet.log"))
    agent = tomllib.loads(config.read_text())
    agent["status"] = {**agent.get("status", {}), "listen": f"127.0.0.1:{status_port}"}
    config.write_text(tomli_w.dumps(agent))
    return fleet


def _write_report(influx_url: str, workdir: Path, started_at_s: float) -> Path | None:
    """The city report of the run (`edge report`, docs/dashboards.md): what a newcomer can open."""
    from edge_gateway.noc.availability import Influx
    from edge_gateway.noc.report import gather
    from edge_gateway.noc.report_charts import render_html

    zone = zoneinfo.ZoneInfo("Asia/Jakarta")
    start = datetime.datetime.fromtimestamp(started_at_s, zone)
    end = datetime.datetime.now(zone)
    try:
        data = gather(Influx(influx_url, DATABASE), start, end, zone)
    except (OSError, RuntimeError) as exc:
        print(f"city report not written: {exc}", file=sys.stderr)
        return None
    path = workdir / "report.html"
    path.write_text(render_html(data), encoding="utf-8")
    return path


def _stop_on_signals() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt, whatever disposition the demo inherited. Python only
    installs its Ctrl-C handler when SIGINT was not ignored at start, and a background job of a script
    (`cmd &` without job control, nohup) starts with SIGINT ignored: the demo then ran its whole
    --duration through a Ctrl-C (the integration suite run in the background saw exactly that)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)


def run_demo(duration_s: float, summary_path: Path | None) -> int:
    _stop_on_signals()
    workdir = Path(tempfile.mkdtemp(prefix="edge-demo-"))
    print(f"edge demo: working in {workdir} (configs and logs are kept there)")
    result: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        mqtt = stack.enter_context(servers.mosquitto(workdir / "mosquitto"))
        influx = stack.enter_context(servers.influxdb(workdir / "influxdb"))
        am = stack.enter_context(servers.alertmanager(workdir / "alertmanager", _alertmanager_config()))
        print(f"  Mosquitto {mqtt.url}, InfluxDB {influx.url}, Alertmanager {am.url}")
        status_port = servers.free_port()  # its own: another agent may hold 9108
        fleet = _start_fleet(stack, workdir, mqtt, status_port)
        print(
            f"  simulated fleet: {APS} access points, {INTERSECTIONS} intersections, {CAMERAS} cameras"
            f" (faults: {FAULTS});"
            f" config {workdir}/edge.toml"
        )
        _write_bridge_config(workdir, mqtt, influx, am)
        bridge = _spawn(stack, workdir, "bridge", ["bridge", "-c", str(workdir / "bridge.toml")])
        agent = _spawn(stack, workdir, "agent", ["agent", "-c", str(workdir / "edge.toml")])
        processes = [fleet, bridge, agent]
        print(f"  the gateway's own page: http://127.0.0.1:{status_port}/ (metrics, healthz beside it)")
        print(
            f"  dashboards: {DASHBOARDS}/json; to see them, give a Grafana the files in"
            f" {DASHBOARDS}/provisioning"
            f" with INFLUX_URL={influx.url} and EDGE_DASHBOARDS_DIR={DASHBOARDS}/json (docs/dashboards.md)"
        )
        started, started_at_s = time.monotonic(), time.time()
        try:
            while (elapsed := time.monotonic() - started) < duration_s:
                time.sleep(min(PROGRESS_EVERY_S, duration_s - elapsed))
                if any(p.poll() is not None for p in processes):
                    print(f"a process exited early; see the logs in {workdir}", file=sys.stderr)
                    return 1
                line = _progress(f"http://127.0.0.1:{status_port}", influx.url, am.url)
                print(f"  {time.monotonic() - started:5.0f} s: {line}", flush=True)
        except KeyboardInterrupt:
            print("  interrupted; stopping")
        result = summary(influx.url)
        result["duration_s"] = round(time.monotonic() - started, 1)
        if (report := _write_report(influx.url, workdir, started_at_s)) is not None:
            result["report_html"] = str(report)
    print(f"summary, counted from InfluxDB after {result['duration_s']} s:")
    for measurement, count in result["points_per_measurement"].items():
        print(f"  {measurement:<16} {count} points")
    print(f"  {len(result['devices_seen'])} devices and {len(result['sites_seen'])} sites seen")
    print(f"  alerts fired: {', '.join(result['alerts_fired']) or 'none'}")
    if "report_html" in result:
        print(f"  city report (opens offline in any browser): {result['report_html']}")
    if summary_path:
        summary_path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"summary written to {summary_path}")
    return 0 if result["points_total"] > 0 else 1
