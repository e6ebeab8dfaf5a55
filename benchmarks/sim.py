"""CPU the simulated APs use while a fleet of 50 is polled every 10 s, against the 0.5-core budget.

The simulator runs as its own process (`python -m edge_gateway_dev.sim.snmp`); this process is the poller
(gufo-snmp, v2c and v3 as the fleet dictates), so the figure is the simulator's CPU alone, read from
/proc/<pid>/stat before the first cycle and after the last interval. Each cycle bulk-walks every AP's
whole MIB, far more than a collector fetches, so the figure is an upper bound.

    python -m benchmarks.sim --json [--aps 50] [--cycles 3] [--interval-s 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from gufo.snmp import Aes128Key, Sha1Key, SnmpVersion, User
from gufo.snmp.aio import SnmpSession

LIMIT_CORES = 0.5
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """utime + stime of another process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


def session_for(ap: dict[str, Any]) -> SnmpSession:
    if ap["v3"] is None:
        return SnmpSession(addr=ap["host"], port=ap["port"], community=ap["community"], timeout=5.0)
    v3 = ap["v3"]
    priv = Aes128Key(v3["priv_key"].encode()) if v3["priv_key"] else None
    user = User(v3["user"], auth_key=Sha1Key(v3["auth_key"].encode()), priv_key=priv)
    return SnmpSession(addr=ap["host"], port=ap["port"], user=user, version=SnmpVersion.v3, timeout=5.0)


async def walk(session: SnmpSession, subtrees: list[str]) -> int:
    count = 0
    for subtree in subtrees:
        async for _ in session.getbulk(subtree):
            count += 1
    return count


async def run(n_aps: int, cycles: int, interval_s: float) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "edge_gateway_dev.sim.snmp", "--aps", str(n_aps), "--seed", "7",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        aps = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        sessions = []
        for ap in aps:
            session = session_for(ap)
            await session.refresh()  # v3 engine discovery before the measurement starts
            sessions.append(session)
        subtrees = {ap["name"]: ["1.3.6.1", "1.2.840.10036"] for ap in aps}
        cpu_start_s = process_cpu_s(process.pid)
        wall_start_s = time.monotonic()
        varbinds = 0
        for cycle in range(cycles):
            counts = await asyncio.gather(
                *(walk(session, subtrees[ap["name"]]) for session, ap in zip(sessions, aps, strict=True))
            )
            varbinds += sum(counts)
            next_cycle_s = wall_start_s + (cycle + 1) * interval_s
            await asyncio.sleep(max(0.0, next_cycle_s - time.monotonic()))
        wall_s = time.monotonic() - wall_start_s
        cpu_s = process_cpu_s(process.pid) - cpu_start_s
    finally:
        process.terminate()
        await process.wait()
    cores = cpu_s / wall_s
    return {
        "benchmark": "sim",
        "aps": n_aps,
        "vendors": {
            vendor: sum(ap["vendor"] == vendor for ap in aps) for vendor in sorted({a["vendor"] for a in aps})
        },
        "v3_aps": sum(ap["v3"] is not None for ap in aps),
        "interval_s": interval_s,
        "cycles": cycles,
        "varbinds_served": varbinds,
        "sim_cpu_s": round(cpu_s, 3),
        "wall_s": round(wall_s, 2),
        "sim_cores": round(cores, 4),
        "limit_cores": LIMIT_CORES,
        "ratio_to_limit": round(cores / LIMIT_CORES, 4),
        "cpu_us_per_varbind": round(cpu_s / max(varbinds, 1) * 1e6, 2),
        "poll": "gufo-snmp GETBULK walk of every AP's whole MIB per cycle, from a separate process",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.add_argument("--aps", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--interval-s", type=float, default=10.0)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.aps, args.cycles, args.interval_s))
    print(json.dumps(result))
    return 0 if result["ratio_to_limit"] < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
