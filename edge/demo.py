"""`edge demo`: the whole pipeline on loopback with real servers, and a summary counted from InfluxDB.

Starts Mosquitto, InfluxDB 1.x and three net-snmp `snmpd` agents (standing in for access points until
the simulated fleet takes their place), then the agent and the bridge as separate processes, exactly
as they run in production. Prints progress while it runs; Ctrl-C or `--duration` ends it, and every
process it started is stopped.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from edge import servers

DATABASE = "edge"
GATEWAY_ID = "cbn-gw-demo"
SITES = ("Alun-alun Kejaksan", "Pelabuhan Cirebon", "Stasiun Kejaksan")
PROGRESS_EVERY_S = 5.0


def _query(url: str, query: str) -> list[dict[str, Any]]:
    params = urllib.parse.urlencode({"db": DATABASE, "q": query})
    try:
        with urllib.request.urlopen(f"{url}/query?{params}", timeout=10) as response:
            body = json.load(response)
    except OSError:
        return []
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
    devices = _query(influx_url, 'SHOW TAG VALUES FROM "device_status" WITH KEY = "device"')
    sites = _query(influx_url, 'SHOW TAG VALUES FROM "device_status" WITH KEY = "site"')
    return {
        "points_per_measurement": points,
        "points_total": sum(points.values()),
        "devices_seen": sorted(v[1] for s in devices for v in s["values"]),
        "sites_seen": sorted(v[1] for s in sites for v in s["values"]),
    }


def _write_configs(
    workdir: Path, mqtt: servers.Server, influx: servers.Server, aps: list[servers.Server]
) -> None:
    devices = "".join(
        f'[[snmp.devices]]\nname = "ap-demo-{i + 1}"\nhost = "{ap.host}:{ap.port}"\n'
        f'community = "public"\nsite = "{SITES[i % len(SITES)]}"\ninterval_s = 5\n'
        for i, ap in enumerate(aps)
    )
    (workdir / "edge.toml").write_text(
        f'[gateway]\nid = "{GATEWAY_ID}"\nsite = "{SITES[0]}"\n[uplink]\nurl = "{mqtt.url}"\n'
        f'[buffer]\npath = "{workdir}/buffer.db"\n{devices}'
    )
    (workdir / "bridge.toml").write_text(
        f'[mqtt]\nurl = "{mqtt.url}"\n[influxdb]\nurl = "{influx.url}"\napi = "v1"\ndatabase = "{DATABASE}"\n'
        f'[bridge]\ndead_letter_path = "{workdir}/dead-letters.jsonl"\n'
    )


def _spawn(stack: contextlib.ExitStack, workdir: Path, name: str) -> subprocess.Popen[bytes]:
    log = (workdir / f"{name}.log").open("wb")
    stack.callback(log.close)
    command = [
        sys.executable,
        "-m",
        "edge",
        name,
        "-c",
        str(workdir / f"{'edge' if name == 'agent' else name}.toml"),
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    stack.callback(stop)
    return process


def run_demo(duration_s: float, summary_path: Path | None) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="edge-demo-"))
    print(f"edge demo: working in {workdir} (configs and logs are kept there)")
    result: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        mqtt = stack.enter_context(servers.mosquitto(workdir / "mosquitto"))
        influx = stack.enter_context(servers.influxdb(workdir / "influxdb"))
        aps = [stack.enter_context(servers.snmpd(workdir / f"snmpd-{i + 1}")) for i in range(3)]
        print(f"  Mosquitto {mqtt.url}, InfluxDB {influx.url}, {len(aps)} snmpd agents as access points")
        _write_configs(workdir, mqtt, influx, aps)
        processes = [_spawn(stack, workdir, "bridge"), _spawn(stack, workdir, "agent")]
        started = time.monotonic()
        try:
            while (elapsed := time.monotonic() - started) < duration_s:
                time.sleep(min(PROGRESS_EVERY_S, duration_s - elapsed))
                if any(p.poll() is not None for p in processes):
                    print(f"a process exited early; see the logs in {workdir}", file=sys.stderr)
                    return 1
                now = summary(influx.url)
                print(
                    f"  {time.monotonic() - started:5.0f} s: {now['points_total']} points stored, "
                    f"{len(now['devices_seen'])} devices seen"
                )
        except KeyboardInterrupt:
            print("  interrupted; stopping")
        result = summary(influx.url)
        result["duration_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result, indent=2))
    if summary_path:
        summary_path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"summary written to {summary_path}")
    return 0 if result["points_total"] > 0 else 1
