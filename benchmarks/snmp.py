"""CPU per 1,000 varbinds of the SNMP collector against its peers, and a full cycle's wall time.

    python -m benchmarks.snmp --json [--aps 50] [--seed 7] [--latency-ms 20]

50 simulated APs (`python -m edge_gateway_dev.sim.snmp`, its own process; each answers `--latency-ms` late, as
over a radio backhaul) are polled for the same OIDs by: the collector with the gufo backend, the
collector with the pysnmp backend, prometheus-snmp-exporter (Debian, loopback port, a generated
snmp.yml module per AP, all targets scraped at once; its CPU read from /proc/PID/stat) and net-snmp
(snmpget + one snmpbulkwalk per column; the children's CPU). Each gets one warm-up cycle, then one
measured cycle (three for gufo and snmp_exporter, whose CPU is a few tenths of a second at 10 ms
tick resolution: the median is reported). An AP's OID set is what the collector asked it for in the
warm-up (its profile's scalars and the columns it read, clients off). Varbinds counted by the
collector (gufo) are the common denominator. The full cycle (50 devices at once) is compared with the
slowest device polled alone; `cpu_bound_floor_s` is the collector's CPU for the cycle, the wall time
it cannot go below.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from edge_gateway.agent.collectors.snmp import settings_for
from edge_gateway.agent.collectors.snmp.config import SnmpSection
from edge_gateway.agent.collectors.snmp.poller import SnmpPoller
from edge_gateway.agent.collectors.snmp.profile import Profile
from edge_gateway.agent.scheduler import Accumulator, SourceHealth
from edge_gateway.core.validation import validate
from edge_gateway_dev import servers

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
ROUNDS = 3  # measured cycles of the cheap pollers (gufo, snmp_exporter); the median is reported


def process_cpu_s(pid: int) -> float:
    """utime + stime of another process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


@dataclass(frozen=True, slots=True)
class OidSet:
    scalars: list[str]
    numeric_columns: list[tuple[str, tuple[str, ...]]]  # column, index parts
    text_columns: list[tuple[str, tuple[str, ...]]]

    @property
    def walks(self) -> list[str]:
        return [c for c, _ in self.numeric_columns] + [c for c, _ in self.text_columns]


def oid_set(profile: Profile, walked: list[str]) -> OidSet:
    """What the collector asked a device for in its last poll: its profile's scalars and the columns
    it walked (clients off), typed and indexed as the profile says."""
    numeric: dict[str, tuple[str, ...]] = {}
    text: dict[str, tuple[str, ...]] = {}
    for table in profile.tables:
        for spec in table.fields:
            for column in (spec, spec.fallback):
                if column and column.oid in walked:
                    numeric.setdefault(column.oid, table.index)
        for source in table.tags.values():
            for column_oid in (source.oid, source.fallback):
                if column_oid in walked and column_oid not in numeric:
                    text.setdefault(column_oid, (source.part,) if source.part else table.index)
        for extra in (table.discontinuity, table.where[0] if table.where else ""):
            if extra in walked:
                text.setdefault(extra, table.index)
    scalars = ["1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.2.0", *(s.oid for s in profile.scalars)]
    return OidSet(scalars, list(numeric.items()), list(text.items()))


def _indexes(parts: tuple[str, ...]) -> list[dict[str, str]]:
    kinds = {"mac": "PhysAddress48"}
    return [{"labelname": f"i{n}_{part}", "type": kinds.get(part, "gauge")} for n, part in enumerate(parts)]


def exporter_module(oids: OidSet, auth: dict[str, Any], version: int) -> dict[str, Any]:
    metrics: list[dict[str, Any]] = []
    for n, scalar in enumerate(oids.scalars):
        metrics.append({"name": f"s{n}", "oid": scalar.removesuffix(".0"), "type": "gauge"})
    for n, (column, parts) in enumerate(oids.numeric_columns):
        metrics.append({"name": f"c{n}", "oid": column, "type": "gauge", "indexes": _indexes(parts)})
    for n, (column, parts) in enumerate(oids.text_columns):
        metrics.append({"name": f"t{n}", "oid": column, "type": "DisplayString", "indexes": _indexes(parts)})
    return {
        "walk": oids.walks,
        "get": oids.scalars,
        "metrics": metrics,
        "version": version,
        "max_repetitions": 25,
        "retries": 1,
        "timeout": "5s",
        "auth": auth,
    }


def exporter_auth(ap: dict[str, Any]) -> tuple[dict[str, Any], int]:
    v3 = ap["v3"]
    if v3 is None:
        return {"community": ap["community"]}, 2
    auth = {"username": v3["user"], "auth_protocol": "SHA", "password": v3["auth_key"]}
    if v3["priv_key"]:
        return auth | {
            "security_level": "authPriv",
            "priv_protocol": "AES",
            "priv_password": v3["priv_key"],
        }, 3
    return auth | {"security_level": "authNoPriv"}, 3


@contextlib.contextmanager
def snmp_exporter(workdir: Path, modules: dict[str, Any]) -> Iterator[servers.Server]:
    """snmp_exporter on a free loopback port, its YAML config written with PyYAML."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "snmp.yml"
    config.write_text(yaml.safe_dump(modules, sort_keys=False))
    port = servers.free_port()
    argv = [servers.find_binary("prometheus-snmp-exporter"), f"--config.file={config}"]
    argv += [f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
    with servers._run("snmp_exporter", argv, workdir, port, lambda: servers._tcp_ready(port)) as server:
        yield server


def scrape_all(port: int, targets: list[tuple[str, str]]) -> int:
    """Scrape every (target, module) at once, as Prometheus would; the number of samples returned."""

    def scrape(item: tuple[str, str]) -> int:
        url = f"http://127.0.0.1:{port}/snmp?target={item[0]}&module={item[1]}"
        with urllib.request.urlopen(url, timeout=60) as response:
            body = response.read().decode()
        return sum(
            1
            for line in body.splitlines()
            if line and not line.startswith("#") and not line.startswith("snmp_")
        )

    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        return sum(pool.map(scrape, targets))


def netsnmp_args(ap: dict[str, Any]) -> list[str]:
    v3 = ap["v3"]
    if v3 is None:
        return ["-v2c", "-c", ap["community"]]
    args = ["-v3", "-u", v3["user"], "-a", "SHA", "-A", v3["auth_key"]]
    if v3["priv_key"]:
        return [*args, "-l", "authPriv", "-x", "AES", "-X", v3["priv_key"]]
    return [*args, "-l", "authNoPriv"]


def netsnmp_cycle(aps: list[dict[str, Any]], sets: list[OidSet]) -> tuple[float, int]:
    """snmpget of the scalars and one snmpbulkwalk per column, per AP, 8 processes at once.

    Returns the children's CPU seconds and the varbinds printed."""
    env = {**os.environ, "MIBS": "", "MIBDIRS": "/nonexistent"}
    commands: list[list[str]] = []
    for ap, oids in zip(aps, sets, strict=True):
        target = f"udp:{ap['host']}:{ap['port']}"
        base = [*netsnmp_args(ap), "-On", "-Oq", "-t", "5", "-r", "1", target]
        commands.append([servers.find_binary("snmpget"), *base, *oids.scalars])
        commands += [[servers.find_binary("snmpbulkwalk"), "-Cr25", *base, column] for column in oids.walks]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)

    def run(command: list[str]) -> int:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=60)
        lines = done.stdout.splitlines()
        return sum(1 for line in lines if line and "No Such" not in line and "No more variables" not in line)

    with ThreadPoolExecutor(max_workers=8) as pool:
        varbinds = sum(pool.map(run, commands))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), varbinds


def device_config(ap: dict[str, Any], backend: str) -> dict[str, Any]:
    config: dict[str, Any] = {"name": ap["name"], "host": f"{ap['host']}:{ap['port']}", "backend": backend}
    v3 = ap["v3"]
    if v3 is None:
        return config | {"community": ap["community"], "timeout_s": 5.0}
    config |= {"version": "3", "user": v3["user"], "auth_protocol": "sha", "auth_key": v3["auth_key"]}
    if v3["priv_key"]:
        config |= {"priv_protocol": "aes", "priv_key": v3["priv_key"]}
    return config | {"timeout_s": 5.0}


async def collector_cycle(pollers: list[SnmpPoller]) -> dict[str, Any]:
    """One cycle of every poller at once: CPU of this process, wall time, varbinds, all up?"""
    for poller in pollers:
        if poller.link is not None:
            poller.link.requests_varbinds = 0
    cpu_s, wall_s = time.process_time(), time.perf_counter()
    accs = [Accumulator(SourceHealth()) for _ in pollers]
    await asyncio.gather(*(p.collect(acc) for p, acc in zip(pollers, accs, strict=True)))
    cpu_s, wall_s = time.process_time() - cpu_s, time.perf_counter() - wall_s
    up = sum(
        any(r.measurement == "device_status" and r.fields.get("up") is True for r in a.readings) for a in accs
    )
    varbinds = sum(p.link.requests_varbinds for p in pollers if p.link is not None)
    return {"cpu_s": cpu_s, "wall_s": wall_s, "varbinds": varbinds, "up": up}


async def alone_s(pollers: list[SnmpPoller]) -> list[float]:
    """Each device's own poll time, polled by itself (warm session, same profile)."""
    times = []
    for poller in pollers:
        started = time.perf_counter()
        await poller.collect(Accumulator(SourceHealth()))
        times.append(time.perf_counter() - started)
    return times


def median(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return dict(sorted(runs, key=lambda run: float(run[key]))[len(runs) // 2])


def per_kilo(cpu_s: float, varbinds: int) -> float:
    return round(cpu_s / varbinds * 1000, 5) if varbinds else float("nan")


async def run(n_aps: int, seed: int, latency_ms: int) -> dict[str, Any]:
    fleet_cmd = [sys.executable, "-m", "edge_gateway_dev.sim.snmp", "--aps", str(n_aps), "--seed", str(seed)]
    if latency_ms:
        names = [f"ap-{n:03d}" for n in range(1, n_aps + 1)]
        fleet_cmd += ["--faults", ";".join(f"{name}:delay_ms={latency_ms}" for name in names)]
    fleet = await asyncio.create_subprocess_exec(*fleet_cmd, stdout=asyncio.subprocess.PIPE)
    assert fleet.stdout is not None
    try:
        aps: list[dict[str, Any]] = json.loads(await asyncio.wait_for(fleet.stdout.readline(), 60))
        results: dict[str, Any] = {"aps": n_aps, "seed": seed, "ap_latency_ms": latency_ms}
        pollers_by: dict[str, list[SnmpPoller]] = {}
        for backend in ("gufo", "pysnmp"):
            devices = [device_config(ap, backend) for ap in aps]
            section = validate(SnmpSection, {"devices": devices, "concurrency": n_aps})
            settings, limit = settings_for(section), asyncio.Semaphore(n_aps)
            pollers = [SnmpPoller(d, "bench", settings, limit) for d in section.devices]
            await collector_cycle(pollers)  # warm-up: profiles identified, v3 engines discovered
            cycles = [await collector_cycle(pollers) for _ in range(ROUNDS if backend == "gufo" else 1)]
            results[backend] = median(cycles, "cpu_s")
            results[backend]["wall_s"] = median(cycles, "wall_s")["wall_s"]
            pollers_by[backend] = pollers
        gufo = pollers_by["gufo"]
        own_s = await alone_s(gufo)
        results["cycle"] = {
            "full_cycle_wall_s": round(results["gufo"]["wall_s"], 4),
            "slowest_device_alone_s": round(max(own_s), 4),
            "ratio": round(results["gufo"]["wall_s"] / max(own_s), 3),
            "target_ratio": 1.5,
            "cpu_bound_floor_s": round(results["gufo"]["cpu_s"], 4),
        }
        sets = [oid_set(p.profile, p.walked) for p in gufo if p.profile is not None]
        modules: dict[str, Any] = {}
        targets = []
        for ap, oids in zip(aps, sets, strict=True):
            auth, version = exporter_auth(ap)
            modules[ap["name"]] = exporter_module(oids, auth, version)
            targets.append((f"{ap['host']}:{ap['port']}", ap["name"]))
        with tempfile.TemporaryDirectory() as tmp, snmp_exporter(Path(tmp), modules) as exporter:
            await asyncio.to_thread(scrape_all, exporter.port, targets)  # warm-up
            scrapes = []
            for _ in range(ROUNDS):
                before = process_cpu_s(exporter.process.pid)
                samples = await asyncio.to_thread(scrape_all, exporter.port, targets)
                scrapes.append({"cpu_s": process_cpu_s(exporter.process.pid) - before, "samples": samples})
            results["snmp_exporter"] = median(scrapes, "cpu_s")
        await asyncio.to_thread(netsnmp_cycle, aps, sets)  # warm-up
        cpu_s, printed = await asyncio.to_thread(netsnmp_cycle, aps, sets)
        results["netsnmp"] = {"cpu_s": cpu_s, "varbinds": printed}
    finally:
        fleet.terminate()
        await fleet.wait()
    varbinds = results["gufo"]["varbinds"]
    for name in ("gufo", "pysnmp", "snmp_exporter", "netsnmp"):
        results[name]["cpu_s_per_1000_varbinds"] = per_kilo(results[name]["cpu_s"], varbinds)
    gufo_k = results["gufo"]["cpu_s_per_1000_varbinds"]
    results["ratios"] = {
        f"{peer}_over_gufo": round(results[peer]["cpu_s_per_1000_varbinds"] / gufo_k, 2)
        for peer in ("pysnmp", "snmp_exporter", "netsnmp")
    }
    results["targets_met"] = {
        "gufo_cpu_le_snmp_exporter": gufo_k <= results["snmp_exporter"]["cpu_s_per_1000_varbinds"],
        "cycle_le_1.5x_slowest": results["cycle"]["ratio"] <= 1.5,
    }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.snmp", description=__doc__)
    parser.add_argument("--aps", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--latency-ms", type=int, default=20, help="every AP answers this late, as over a radio backhaul"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on one line")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args.aps, args.seed, args.latency_ms)), indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
