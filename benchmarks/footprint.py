"""The agent's footprint on a gateway: `python -m benchmarks.footprint --json`.

Runs the simulated field (`edge sim fleet`: 50 APs, 8 intersections by default) and a local Mosquitto,
then three agents side by side, each its own process polling all of it: one as shipped, its page on and
asked for `/`, `/api/status`, `/metrics` and `/healthz` every SCRAPE_INTERVAL_S (a technician and a
Prometheus scrape), one with `[status] enabled = false`, and one taking remote configuration from the
NOC (`[remote_config]` on, page off), as a gateway under `edge fleet` does. It reads each agent's
resident memory (VmRSS, peak VmHWM) and CPU time from /proc over a measured window after a warm-up. The
limit, 40 MB of RSS (issue 15: "at most 40 MB"), is held against the peak of the agent as shipped (page
on), and shown for the remote-configured one; page on and off are compared with the same benchmark
before the page left aiohttp (7661aab). CPU is reported in cores (CPU seconds per wall second) for the
configured poll interval. It exits 1 when an agent's peak is over the limit.

Where it goes (page on, 38.3 MB; measured by importing in the agent's order): the interpreter 10.6 MB,
asyncio with ssl 9.4 MB (aiomqtt imports ssl whether or not the broker is TLS), argparse, json, tomllib
and annotated_types 1.9 MB, the agent's own modules and their libraries (sqlite, aiomqtt, gufo) 10 MB,
the running state of 50 APs and 48 sensors about 6.5 MB. Pydantic (12.8 MB with pydantic-settings,
before) is no longer in the process: a child checks the config (agent/config_child.py).

No consumer subscribes to the local broker, so the agents are told to count a PUBACK 0x10 ("no matching
subscribers") as delivered, as with a bridge listening: otherwise they would keep every batch and retry.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from edge_gateway.bridge.fleet_sign import keygen
from edge_gateway_dev import servers

RSS_LIMIT_BYTES = 40_000_000
# This benchmark's peaks at 7661aab (2026-12-02), when the page still ran on aiohttp.web, imported
# with the page's module even when the page was off. (At 3d68b0f, before the `agent` command stopped
# loading rich, pysnmp, cryptography and the cameras' collector, page off: 74.7 MB.)
RSS_BEFORE_BYTES = {"page_on": 61_992_960, "page_off": 60_559_360}
SCRAPE_INTERVAL_S = 5.0


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


def _scrape(port: int) -> None:
    """What a page that is on serves: a technician's browser and a Prometheus scrape."""
    for path in ("/", "/api/status", "/metrics", "/healthz"):
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer,
        ):
            answer.read()


def _agent(work: Path, config: Path, name: str, port: int) -> contextlib.AbstractContextManager[Any]:
    """One agent of its own: gateway id, buffer and page port (the agents share the broker). The
    `remote` one takes remote configuration from the NOC, as a gateway under `edge fleet` does."""
    os.environ.update(
        EDGE_GATEWAY__ID=f"footprint-{name}",
        EDGE_BUFFER__PATH=str(work / f"{name}.db"),
        EDGE_STATUS__LISTEN=f"127.0.0.1:{port}",
        EDGE_STATUS__ENABLED="true" if name == "page_on" else "false",
        EDGE_REMOTE_CONFIG__ENABLED="true" if name == "remote" else "false",
        EDGE_REMOTE_CONFIG__PUBLIC_KEY_FILE=str(work / "noc.pub"),
    )
    return servers.edge_process(["agent", "-c", str(config)], work / f"{name}.log")


def measure(
    aps: int, intersections: int, interval_s: float, warmup_s: float, window_s: float
) -> dict[str, object]:
    os.environ["EDGE_UPLINK__ACCEPT_NO_SUBSCRIBERS"] = "true"  # the agents inherit it
    with (
        tempfile.TemporaryDirectory(prefix="edge-footprint-") as folder,
        servers.mosquitto(Path(folder) / "m") as mqtt,
    ):
        work = Path(folder)
        config = work / "edge.toml"
        keygen(work / "noc.key", work / "noc.pub")
        options = ["--aps", str(aps), "--intersections", str(intersections), "--interval-s", str(interval_s)]
        options += ["--port-dir", str(work / "ports"), "--broker-url", mqtt.url]
        port = servers.free_port()
        with (
            servers.fleet_process(config, options),
            _agent(work, config, "page_on", port) as on,
            _agent(work, config, "page_off", servers.free_port()) as off,
            _agent(work, config, "remote", servers.free_port()) as remote,
        ):
            agents = {"page_on": on, "page_off": off, "remote": remote}
            deadline_s = time.monotonic() + warmup_s
            while time.monotonic() < deadline_s:  # a measured window, not a wait for an event
                _scrape(port)
                time.sleep(SCRAPE_INTERVAL_S)
            for name, agent in agents.items():
                if agent.poll() is not None:
                    raise RuntimeError(f"the agent exited: {(work / f'{name}.log').read_text()[-2000:]}")
            cpu_start_s = {name: _cpu_s(agent.pid) for name, agent in agents.items()}
            wall_start_s = time.monotonic()
            while time.monotonic() < wall_start_s + window_s:
                _scrape(port)
                time.sleep(SCRAPE_INTERVAL_S)
            wall_s = time.monotonic() - wall_start_s
            cpu_s = {name: _cpu_s(agent.pid) - cpu_start_s[name] for name, agent in agents.items()}
            memory = {name: _memory_bytes(agent.pid) for name, agent in agents.items()}
        for name, agent in agents.items():
            if agent.returncode != 0:
                tail = (work / f"{name}.log").read_text()[-2000:]
                raise RuntimeError(f"the {name} agent did not stop cleanly on SIGTERM: {tail}")
    on_peak, off_peak = memory["page_on"]["VmHWM"], memory["page_off"]["VmHWM"]
    return {
        "benchmark": "footprint",
        "aps": aps,
        "intersections": intersections,
        "poll_interval_s": interval_s,
        "window_s": round(wall_s, 1),
        "agent_rss_bytes": memory["page_on"]["VmRSS"],
        "agent_peak_rss_bytes": on_peak,
        "page_off_rss_bytes": memory["page_off"]["VmRSS"],
        "page_off_peak_rss_bytes": off_peak,
        "rss_limit_bytes": RSS_LIMIT_BYTES,
        "rss_ratio_to_limit": round(on_peak / RSS_LIMIT_BYTES, 3),
        "rss_before_bytes": RSS_BEFORE_BYTES["page_on"],
        "rss_ratio_to_before": round(on_peak / RSS_BEFORE_BYTES["page_on"], 3),
        "page_off_rss_before_bytes": RSS_BEFORE_BYTES["page_off"],
        "page_off_rss_ratio_to_before": round(off_peak / RSS_BEFORE_BYTES["page_off"], 3),
        "remote_config_peak_rss_bytes": memory["remote"]["VmHWM"],
        "remote_config_rss_ratio_to_limit": round(memory["remote"]["VmHWM"] / RSS_LIMIT_BYTES, 3),
        "agent_cpu_cores": round(cpu_s["page_on"] / wall_s, 4),
        "page_off_cpu_cores": round(cpu_s["page_off"] / wall_s, 4),
        "remote_config_cpu_cores": round(cpu_s["remote"] / wall_s, 4),
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
    peaks = ("agent_peak_rss_bytes", "remote_config_peak_rss_bytes")
    over = [key for key in peaks if isinstance(peak := result[key], int) and peak > RSS_LIMIT_BYTES]
    if over:
        print(f"over the {RSS_LIMIT_BYTES / 1e6:.0f} MB limit: {', '.join(over)}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
