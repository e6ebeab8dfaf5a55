"""How far one Mosquitto and one bridge go: `python -m benchmarks.fleet_capacity --json`.

A sweep of simulated gateways into one real Mosquitto and one (`--bridges 2`: two, on one shared
subscription) real `edge bridge` with its default settings (alert engine and fleet view on) storing into
one real InfluxDB 1.x, all started here on loopback.

The gateways are a wire-level load generator (benchmarks/fleet_load.py), not agent processes (a few
hundred agents do not fit in two cores): one MQTT 5 connection per gateway (client id = gateway id, a
Last Will, a retained status)
and data batches made by the agent's own encoders (`core.lineproto`, `agent.uplink.encode_batch`:
gzip, the `seq`, `n` and `v` user properties) published at QoS 1, each PUBACK checked for 0x00 as the
uplink does. What a gateway sends is recorded first from a real one (benchmarks/fleet_record.py: a real
`edge agent` polling `edge sim fleet`, 50 APs and 8 intersections): every simulated gateway replays that
poll cycle (its batches, their sizes, their offsets in the cycle) every 30 s, the default poll
interval, under its own id and with the time of sending; its status every 60 s.

Each step runs N gateways for `--step-s` and measures: the readings per second stored (the bridges'
/metrics) against those sent, the bridge's CPU (cores; its limit is one core, one Python process),
the broker's CPU and RSS, InfluxDB's and the generator's CPU, the end-to-end lag (the bridge's storing
time minus the reading's time, sampled per gateway whenever a batch of it was stored) at p50 and p99,
and whether every reading handed to the broker is in InfluxDB, counted there. The sweep stops at the
first step that does not keep up: stored rate under 80 % of the sent one, lag p99 over LAG_BOUND_S,
a reading missing, or the generator itself late. Before each step the series of its new gateways are
created by a bulk load of one cycle of theirs, a day old, as in a fleet that has been running
(InfluxDB creates series far more slowly than it appends to them; that rate is reported too).

The peer, measured in the same run on the same InfluxDB: a plain bulk load of the same lines (the last
step's gateways, as many cycles as a step lasts, at most PEER_MAX_LINES, into their existing series;
POSTs of 5000 lines one after another, benchmarks/bridge.py's loader). The machine's load average and
CPU pressure are reported: the two cores are shared with whatever else runs.

`EDGE_BENCH_FLEET_STEPS=100,200,400,800,1600` and `EDGE_BENCH_FLEET_STEP_S=120` give a longer sweep.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt

from benchmarks.bridge import bulk_load
from benchmarks.fleet_load import PREFIX, Sent, fleet_lines, gateway, names
from benchmarks.fleet_record import CAPTURE_INTERVAL_S, POLL_INTERVAL_S, Template, capture
from benchmarks.sim import process_cpu_s
from edge_gateway.agent.buffer import Batch
from edge_gateway.agent.uplink import encode_batch
from edge_gateway.core import wire
from edge_gateway.core.mqtt import Client
from edge_gateway_dev import servers

LAG_BOUND_S = 10.0
KEPT_UP_RATIO = 0.8  # stored / sent readings per second; the window trails the sending by the lag
WARMUP_S = 5.0  # the start of a step (at most half) not counted in its stored rate
DRAIN_TIMEOUT_S = 60.0
SCRAPE_EVERY_S = 1.0
STEPS = (25, 50, 100, 200, 400)
PEER_MAX_LINES = 100_000  # enough for a steady rate, few enough for the time budget


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


METRIC = re.compile(r'^edge_bridge_(points_total|batches_total|lag_seconds)\{gateway="([^"]+)"\} (\S+)$')


async def scrape(http: aiohttp.ClientSession, ports: list[int]) -> dict[tuple[str, int, str], float]:
    """(metric, bridge, gateway) -> value, for this step's gateways, from every bridge's /metrics."""
    values = {}
    for index, port in enumerate(ports):
        async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
            for line in (await response.text()).splitlines():
                if (match := METRIC.match(line)) and match[2].startswith(PREFIX):
                    values[match[1], index, match[2]] = float(match[3])
    return values


def _stored(values: dict[tuple[str, int, str], float]) -> float:
    return sum(value for (metric, _, _), value in values.items() if metric == "points_total")


async def count_stored(
    http: aiohttp.ClientSession, influx: servers.Server, since_ns: int, template: Template
) -> int:
    """Points of the sweep's gateways since `since_ns` in InfluxDB, counted there by one field of each
    measurement that all its readings carry."""
    fields = template.counted_field()
    where = f'WHERE "gateway" =~ /^{PREFIX}/ AND time >= {since_ns}'
    query = ";".join(f'SELECT count("{f}") FROM "{m}" {where}' for m, f in fields.items())
    async with http.get(f"{influx.url}/query", params={"db": "edge", "q": query}) as response:
        results = (await response.json())["results"]
    return sum(int(r["series"][0]["values"][0][1]) for r in results if r.get("series"))


def _cpu(pids: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(process_cpu_s(pid) for pid in group) for name, group in pids.items()} | {
        "generator": time.process_time()
    }


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)


async def run_step(
    count: int, step_s: float, template: Template, broker: servers.Server, influx: servers.Server,
    bridges: list[tuple[int, int]], seqs: Counter[str],
) -> dict[str, Any]:  # fmt: skip
    """`count` gateways for `step_s`: rates, CPU, memory and lag during it; then the drain and the count."""
    rng, sent, since_ns = random.Random(count), Sent(seqs=seqs), time.time_ns()
    ports = [port for _, port in bridges]
    pids = {
        "bridge": [p for p, _ in bridges],
        "broker": [broker.process.pid],
        "influxdb": [influx.process.pid],
    }
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as http:
        values = await scrape(http, ports)
        base = _stored(values)
        last = {
            (bridge, name): value
            for (metric, bridge, name), value in values.items()
            if metric == "batches_total"
        }
        started_s, cpu_start = loop.time(), _cpu(pids)
        until_s = started_s + step_s
        tasks = [
            asyncio.create_task(
                gateway(broker, name, template, rng.uniform(0, template.poll_interval_s), until_s, sent)
            )
            for name in names(count)
        ]
        window: list[tuple[float, float]] = []
        lags: list[float] = []
        while loop.time() < until_s:
            await asyncio.sleep(SCRAPE_EVERY_S)
            values = await scrape(http, ports)
            for (metric, bridge, name), value in values.items():
                if metric == "batches_total" and last.get((bridge, name)) != value:
                    last[bridge, name] = value
                    lags.append(values.get(("lag_seconds", bridge, name), 0.0))
            if loop.time() - started_s >= min(WARMUP_S, step_s / 2):
                window.append((loop.time(), _stored(values)))
        cpu_end, elapsed_s = _cpu(pids), loop.time() - started_s
        rss = {"broker": _rss_bytes(broker.process.pid), "bridge": max(_rss_bytes(p) for p in pids["bridge"])}
        await asyncio.gather(*tasks)
        total = sum(sent.readings.values())
        for _ in range(int(DRAIN_TIMEOUT_S / SCRAPE_EVERY_S)):  # the bridge has no event to await
            if _stored(await scrape(http, ports)) - base >= total:
                break
            await asyncio.sleep(SCRAPE_EVERY_S)
        stored = await count_stored(http, influx, since_ns, template)
    cores = {name: round((cpu_end[name] - cpu_start[name]) / elapsed_s, 3) for name in cpu_start}
    offered = sum(sent.readings.values()) / elapsed_s
    rate = (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0]) if len(window) > 1 else 0.0
    p99 = _percentile(lags, 0.99)
    bounds = {
        f"stored rate under {KEPT_UP_RATIO:.0%} of sent": rate < KEPT_UP_RATIO * offered,
        f"lag p99 over {LAG_BOUND_S} s": p99 is None or p99 > LAG_BOUND_S,
        "readings missing": stored != total,
        f"generator late over {LAG_BOUND_S} s": sent.late_s > LAG_BOUND_S,
        "PUBACK not 0x00": sent.refused > 0,
    }
    return {
        "gateways": count,
        "sent_readings_per_s": round(offered),
        "stored_readings_per_s": round(rate),
        "bridge_cpu_cores": round(cores["bridge"] / len(bridges), 3),  # each; the limit is one core
        "bridge_rss_bytes": rss["bridge"],
        "broker_cpu_cores": cores["broker"],
        "broker_rss_bytes": rss["broker"],
        "influxdb_cpu_cores": cores["influxdb"],
        "generator_cpu_cores": cores["generator"],
        "lag_p50_s": _percentile(lags, 0.5),
        "lag_p99_s": p99,
        "lag_samples": len(lags),
        "batches_sent": sent.batches,
        "readings_sent": total,
        "readings_stored": stored,
        "generator_late_max_s": round(sent.late_s, 3),
        "bound": [name for name, hit in bounds.items() if hit],
    }


def start_bridges(
    stack: contextlib.ExitStack, work: Path, count: int, broker: servers.Server, influx: servers.Server
) -> list[tuple[int, int]]:
    """`count` bridges with their default settings on one shared subscription: (pid, /metrics port)."""
    bridges = []
    for index in range(count):
        port, conf = servers.free_port(), work / f"bridge-{index}.toml"
        conf.write_text(
            f'log_level = "warning"\n[mqtt]\nurl = "{broker.url}"\nclient_id = "bridge-{index}"\n'
            f'[influxdb]\nurl = "{influx.url}"\ndatabase = "edge"\n'
            f'[bridge]\ndead_letter_path = "{work}/dead-{index}.jsonl"\nlisten = "127.0.0.1:{port}"\n'
        )
        process = stack.enter_context(
            servers.edge_process(["bridge", "-c", str(conf)], work / f"bridge-{index}.log")
        )
        bridges.append((process.pid, port))
    return bridges


async def wait_subscribed(broker: servers.Server, bridges: int) -> None:
    """Until a data message finds a subscriber (PUBACK 0x00, not 0x10): the bridges listen. One batch
    of a gateway named `warmup` per try, which the sweep does not count."""
    seq = 0
    async with (
        asyncio.timeout(servers.START_TIMEOUT_S * bridges),
        Client(broker.host, broker.port, identifier="warmup", protocol=aiomqtt.ProtocolVersion.V5) as client,
    ):
        while True:
            seq += 1
            payload, props = encode_batch(
                Batch(seq, (), (f"gateway up=true {time.time_ns()}",)), use_gzip=True
            )
            if await client.publish_checked(wire.data_topic("warmup"), payload, qos=1, properties=props) == 0:
                return
            await asyncio.sleep(0.2)


def cpu_pressure() -> float | None:
    """Share of the last minute in which some runnable task waited for a CPU (Linux PSI)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return float(Path("/proc/pressure/cpu").read_text().split()[2].removeprefix("avg60="))
    return None


def sweep(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    load_start = round(os.getloadavg()[0], 2)
    template = capture(work, args.aps, args.intersections, args.capture_interval_s)
    template = dataclasses.replace(template, poll_interval_s=args.poll_interval_s)
    steps: list[dict[str, Any]] = []
    with (
        servers.mosquitto(work / "mqtt") as broker,
        servers.influxdb(work / "influx") as influx,
        contextlib.ExitStack() as stack,
    ):
        bridges = start_bridges(stack, work, args.bridges, broker, influx)
        asyncio.run(wait_subscribed(broker, args.bridges))
        seqs: Counter[str] = Counter()
        day_ago_ns, seeded, seeding = time.time_ns() - 86_400 * 10**9, 0, []
        for count in args.steps:
            # The new gateways' series exist before the step, as in a fleet that has been running: one
            # cycle of theirs, a day old, bulk-loaded (InfluxDB creates new series far more slowly).
            lines = fleet_lines(template, names(count)[seeded:], [day_ago_ns])
            seeding.append(asyncio.run(bulk_load(influx.url, "edge", lines)))
            seeded = count
            steps.append(asyncio.run(run_step(count, args.step_s, template, broker, influx, bridges, seqs)))
            print(json.dumps(steps[-1]), file=sys.stderr, flush=True)  # progress of a long sweep
            if steps[-1]["bound"]:
                break
        cycles = range(1, max(2, round(args.step_s / template.poll_interval_s) + 1))
        times_ns = [day_ago_ns + int(k * template.poll_interval_s * 1e9) for k in cycles]
        lines = fleet_lines(template, names(seeded), times_ns)[:PEER_MAX_LINES]
        peer = asyncio.run(bulk_load(influx.url, "edge", lines))
    kept = [step for step in steps if not step["bound"]]
    readings_per_gateway_s = template.readings_per_cycle / template.poll_interval_s
    largest = kept[-1] if kept else None
    return {
        "benchmark": "fleet_capacity",
        "machine_cores": os.cpu_count(),
        "load_average_1m": [load_start, round(os.getloadavg()[0], 2)],  # at the start and at the end
        "cpu_pressure_some_avg60_pct_at_end": cpu_pressure(),
        "gateway": {
            "recorded_from": f"edge sim fleet --aps {args.aps} --intersections {args.intersections}",
            "devices": template.devices,
            "poll_interval_s": template.poll_interval_s,
            "readings_per_cycle": template.readings_per_cycle,
            "readings_per_minute": round(template.readings_per_cycle * 60 / template.poll_interval_s),
            "batches_per_cycle": len(template.batches),
            "gzip": True,
        },
        "bridges": args.bridges,
        "step_s": args.step_s,
        "steps": steps,
        "peer_bulk_load_readings_per_s": round(peer),
        "new_series_bulk_load_readings_per_s": round(min(seeding)),
        "largest_kept_up_gateways": largest["gateways"] if largest else 0,
        "largest_kept_up_ratio_to_peer": round(largest["stored_readings_per_s"] / peer, 4)
        if largest
        else 0.0,
        "largest_kept_up_bridge_ratio_to_one_core": largest["bridge_cpu_cores"] if largest else 0.0,
        # Extrapolated, not measured: the readings one bridge would store at one core, at the CPU per
        # reading of the largest step it kept up with, in gateways like the recorded one.
        "one_core_bridge_gateways_estimate": round(
            largest["sent_readings_per_s"]
            / args.bridges
            / largest["bridge_cpu_cores"]
            / readings_per_gateway_s
        )
        if largest and largest["bridge_cpu_cores"]
        else None,
        "saturated_at_gateways": steps[-1]["gateways"] if steps and steps[-1]["bound"] else None,
    }


def _steps(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object on one line")
    steps = os.environ.get("EDGE_BENCH_FLEET_STEPS", ",".join(map(str, STEPS)))
    parser.add_argument("--steps", type=_steps, default=_steps(steps), help="gateways per step, e.g. 50,100")
    parser.add_argument(
        "--step-s", type=float, default=float(os.environ.get("EDGE_BENCH_FLEET_STEP_S", "30"))
    )
    parser.add_argument("--bridges", type=int, default=1)
    parser.add_argument("--aps", type=int, default=50)
    parser.add_argument("--intersections", type=int, default=8)
    parser.add_argument("--capture-interval-s", type=float, default=CAPTURE_INTERVAL_S)
    parser.add_argument("--poll-interval-s", type=float, default=POLL_INTERVAL_S, help="of the replay")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        result = sweep(args, Path(tmp))
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
