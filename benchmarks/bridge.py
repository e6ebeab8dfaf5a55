"""Benchmark of the bridge, MQTT → InfluxDB 1.x: `python -m benchmarks.bridge --json`.

Figures, all measured in one run on this machine, against real Mosquitto and InfluxDB started here:
- the limit: points per second a plain bulk loader gets into InfluxDB, POSTing the same line protocol
  in requests of 5000 lines, one after the other, uncompressed like the bridge by default (it does
  nothing else, so it goes as fast as this InfluxDB takes sequential writes);
- points per second of one bridge (`edge bridge` in its own process, default settings) draining a
  backlog of gateway batches (500 lines each, as the agent sends them) queued in its broker session;
- the same bridge writing one request at a time (`max_inflight_writes = 1`), like the loader;
- two bridges on one shared subscription.
Every phase writes the same points into its own fresh InfluxDB, so none inherits another's background
compactions. This InfluxDB's write rate varies a lot from run to run (and with whatever else runs on
the machine), so each figure is the best of `--rounds` rounds, and the ratios are also given as the
median of the ratios within each round. A bridge's rate is counted from its first to its last stored
point, read from its `/metrics`, so the start-up of the Python process is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp
import aiomqtt
from paho.mqtt.packettypes import PacketTypes

from edge_gateway.agent.buffer import Batch
from edge_gateway.agent.uplink import encode_batch
from edge_gateway.core.mqtt import properties
from edge_gateway.core.wire import data_topic
from edge_gateway_dev import servers

GATEWAYS = 10
LINES_PER_MESSAGE = 500
LOADER_LINES_PER_REQUEST = 5000
TIMEOUT_S = 120.0
# (name, bridges, [bridge] settings): default settings; one write at a time like the loader; two bridges.
PHASES = (("one", 1, ""), ("serial", 1, "max_inflight_writes = 1\n"), ("two", 2, ""))


def make_lines(points: int) -> dict[str, list[str]]:
    """Realistic interface counters of 50 APs per gateway, each point unique (series and time)."""
    per_gateway = points // GATEWAYS
    start_ns = 1_700_000_000_000_000_000
    return {
        f"bench-gw-{g:02d}": [
            f"ap_iface,device=ap-{i % 50},gateway=bench-gw-{g:02d},ifname=eth{i % 4},"
            f"site=Alun-alun\\ Kejaksan in_octets={i * 1500}i,out_octets={i * 700}i,oper_up=true,"
            f"speed_mbps=1000i {start_ns + (i // 200) * 1_000_000_000}"
            for i in range(per_gateway)
        ]
        for g in range(GATEWAYS)
    }


async def bulk_load(url: str, database: str, lines: list[str]) -> float:
    """The limit: points per second of plain sequential POSTs of 5000 lines."""
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/query", data={"q": f"CREATE DATABASE {database}"}) as response:
            response.raise_for_status()
        started_s = time.perf_counter()
        for start in range(0, len(lines), LOADER_LINES_PER_REQUEST):
            body = "\n".join(lines[start : start + LOADER_LINES_PER_REQUEST]).encode()
            params = {"db": database, "precision": "ns"}
            async with session.post(f"{url}/write", params=params, data=body) as response:
                if response.status != 204:
                    raise RuntimeError(f"bulk load: HTTP {response.status}: {await response.text()}")
        return len(lines) / (time.perf_counter() - started_s)


async def queue_backlog(
    mqtt: servers.Server, group: str, client_ids: list[str], by_gateway: dict[str, list[str]]
) -> None:
    """Open the bridges' persistent sessions, then publish every batch: the broker holds them for them."""
    for client_id in client_ids:
        props = properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        async with aiomqtt.Client(
            mqtt.host,
            mqtt.port,
            identifier=client_id,
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False,
            properties=props,
        ) as client:
            await client.subscribe(f"$share/{group}/edge/+/data", qos=1)
    async with aiomqtt.Client(mqtt.host, mqtt.port, protocol=aiomqtt.ProtocolVersion.V5) as publisher:
        for gateway, lines in by_gateway.items():
            for seq, start in enumerate(range(0, len(lines), LINES_PER_MESSAGE), start=1):
                chunk = tuple(lines[start : start + LINES_PER_MESSAGE])
                payload, props = encode_batch(Batch(seq, (), chunk), use_gzip=False)
                await publisher.publish(data_topic(gateway), payload, qos=1, properties=props)


def stored_points(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("edge_bridge_stored_points_total "):
                return int(float(line.split()[1]))
    return 0


def run_bridges(
    workdir: Path,
    mqtt: servers.Server,
    influx: servers.Server,
    database: str,
    count: int,
    points: int,
    bridge_toml: str = "",
) -> float:
    """Points per second of `count` bridges draining the backlog, first to last stored point."""
    processes, ports = [], []
    try:
        for index in range(count):
            port = servers.free_port()
            conf = workdir / f"{database}-{index}.toml"
            conf.write_text(
                f'log_level = "warning"\n[mqtt]\nurl = "{mqtt.url}"\nclient_id = "{database}-{index}"\n'
                f'share_group = "{database}"\n'
                f'[influxdb]\nurl = "{influx.url}"\ndatabase = "{database}"\n'
                f'[bridge]\ndead_letter_path = "{workdir}/dead.jsonl"\nlisten_port = {port}\n'
                f"health_interval_s = 3600\n{bridge_toml}"
            )
            log = (workdir / f"{database}-{index}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "edge_gateway", "bridge", "-c", str(conf)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            ports.append(port)
        deadline_s = time.monotonic() + TIMEOUT_S
        first: tuple[float, int] | None = None
        while time.monotonic() < deadline_s:
            try:
                stored = sum(stored_points(port) for port in ports)
            except OSError:
                time.sleep(0.05)
                continue
            now_s = time.perf_counter()
            if first is None and stored:
                first = (now_s, stored)
            if stored >= points and first is not None:
                return (stored - first[1]) / (now_s - first[0])
            time.sleep(0.05)
        raise RuntimeError(f"{count} bridge(s) did not store {points} points in {TIMEOUT_S} s")
    finally:
        for process in processes:
            process.terminate()
            process.wait(15)


def one_round(workdir: Path, by_gateway: dict[str, list[str]]) -> dict[str, float]:
    """The three phases, each against its own fresh InfluxDB: none inherits another's compactions."""
    all_lines = [line for lines in by_gateway.values() for line in lines]
    rates: dict[str, float] = {}
    with servers.mosquitto(workdir / "mosquitto") as mqtt:
        with servers.influxdb(workdir / "influx-loader") as influx:
            rates["limit"] = asyncio.run(bulk_load(influx.url, "loader", all_lines))
        for name, count, bridge_toml in PHASES:
            client_ids = [f"{name}-{index}" for index in range(count)]
            asyncio.run(queue_backlog(mqtt, name, client_ids, by_gateway))
            with servers.influxdb(workdir / f"influx-{name}") as influx:
                rates[name] = run_bridges(workdir, mqtt, influx, name, count, len(all_lines), bridge_toml)
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    parser.add_argument("--points", type=int, default=400_000)
    parser.add_argument("--rounds", type=int, default=3, help="each figure is the best of the rounds")
    args = parser.parse_args()
    by_gateway = make_lines(args.points)
    rounds = []
    for index in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp:
            rounds.append(one_round(Path(tmp) / str(index), by_gateway))
    best = {name: max(r[name] for r in rounds) for name in rounds[0]}
    result = {
        "points": args.points,
        "lines_per_message": LINES_PER_MESSAGE,
        "influx_gzip": os.environ.get("EDGE_INFLUXDB__GZIP", "false"),
        "limit_bulk_loader_points_per_s": round(best["limit"]),
        "one_bridge_points_per_s": round(best["one"]),
        "one_bridge_ratio": round(best["one"] / best["limit"], 3),
        "one_bridge_one_write_at_a_time_points_per_s": round(best["serial"]),
        "one_bridge_one_write_at_a_time_ratio": round(best["serial"] / best["limit"], 3),
        "two_bridges_points_per_s": round(best["two"]),
        "two_bridges_ratio": round(best["two"] / best["limit"], 3),
        "target_ratio": 0.8,
        # The same ratios taken within each round (bridge and loader minutes apart), then the median.
        "median_round_ratios": {
            name: round(statistics.median(r[name] / r["limit"] for r in rounds), 3)
            for name in ("one", "serial", "two")
        },
        "rounds": [{name: round(rate) for name, rate in r.items()} for r in rounds],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
