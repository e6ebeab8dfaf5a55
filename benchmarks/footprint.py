"""The agent's footprint on a gateway: `python -m benchmarks.footprint --json`.

Runs the simulated field (`edge sim fleet`: 50 APs, 8 intersections by default) and a local Mosquitto,
then the agent as its own process polling all of it, and reads the agent's resident memory (VmRSS,
peak VmHWM) and CPU time from /proc over a measured window after a warm-up. The limit it is held to:
40 MiB of RSS (issue 15; it was 60), compared with the agent before it imported only what it runs.
CPU is reported in cores (CPU seconds per wall second) for the configured poll interval.

No consumer subscribes to the local broker, so the agent is told to count a PUBACK 0x10 ("no matching
subscribers") as delivered, as with a bridge listening: otherwise it would keep every batch and retry.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from edge_gateway_dev import servers

RSS_LIMIT_BYTES = 40 * 1024 * 1024
# This benchmark's figure at 3d68b0f (2026-12-02), before the agent's imports were trimmed: the
# `agent` parser loaded rich and pysnmp (`edge top`, the probes), its config cryptography and the
# cameras' collector.
RSS_BEFORE_BYTES = 74_690_560


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory_bytes(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


def measure(
    aps: int, intersections: int, interval_s: float, warmup_s: float, window_s: float
) -> dict[str, object]:
    os.environ["EDGE_UPLINK__ACCEPT_NO_SUBSCRIBERS"] = "true"  # the agent inherits it
    with (
        tempfile.TemporaryDirectory(prefix="edge-footprint-") as folder,
        servers.mosquitto(Path(folder) / "m") as mqtt,
    ):
        work = Path(folder)
        config = work / "edge.toml"
        options = ["--aps", str(aps), "--intersections", str(intersections), "--interval-s", str(interval_s)]
        options += ["--port-dir", str(work / "ports"), "--broker-url", mqtt.url]
        with servers.fleet_process(config, options):
            with config.open("a") as file:
                file.write("\n[status]\nenabled = false\n")
            with servers.edge_process(["agent", "-c", str(config)], work / "agent.log") as agent:
                time.sleep(warmup_s)  # a measured window, not a wait for an event
                if agent.poll() is not None:
                    raise RuntimeError(f"the agent exited: {(work / 'agent.log').read_text()[-2000:]}")
                cpu_start_s, wall_start_s = _cpu_s(agent.pid), time.monotonic()
                time.sleep(window_s)
                cpu_s, wall_s = _cpu_s(agent.pid) - cpu_start_s, time.monotonic() - wall_start_s
                memory = _memory_bytes(agent.pid)
            if agent.returncode != 0:
                raise RuntimeError(f"the agent did not stop cleanly on SIGTERM (exit {agent.returncode})")
    return {
        "benchmark": "footprint",
        "aps": aps,
        "intersections": intersections,
        "poll_interval_s": interval_s,
        "window_s": round(wall_s, 1),
        "agent_rss_bytes": memory["VmRSS"],
        "agent_peak_rss_bytes": memory["VmHWM"],
        "rss_limit_bytes": RSS_LIMIT_BYTES,
        "rss_ratio_to_limit": round(memory["VmHWM"] / RSS_LIMIT_BYTES, 3),
        "rss_before_bytes": RSS_BEFORE_BYTES,
        "rss_ratio_to_before": round(memory["VmHWM"] / RSS_BEFORE_BYTES, 3),
        "agent_cpu_cores": round(cpu_s / wall_s, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object on one line")
    parser.add_argument("--aps", type=int, default=50)
    parser.add_argument("--intersections", type=int, default=8)
    parser.add_argument("--interval-s", type=float, default=30.0, help="poll interval of every device")
    parser.add_argument("--warmup-s", type=float, default=40.0)
    parser.add_argument("--window-s", type=float, default=60.0)
    args = parser.parse_args()
    result = measure(args.aps, args.intersections, args.interval_s, args.warmup_s, args.window_s)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
