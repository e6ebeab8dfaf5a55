"""Run simulated intersections until interrupted: `python -m edge_gateway_dev.sim.serial --dir /tmp/sim`.

Prints one line per port (`cbn-int-01 rs485 /tmp/sim/cbn-int-01-rs485 -> /dev/pts/3`) so a person can
point `edge probe serial`, minicom or pymodbus at them; on Ctrl-C the ptys close and the links go.
The devices follow the clock EDGE_SIM_CLOCK / EDGE_SIM_TIME_SCALE ask for (the wall clock without them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

from edge_gateway_dev.sim.clock import resolve_clock
from edge_gateway_dev.sim.serial.faults import parse_faults
from edge_gateway_dev.sim.serial.fleet import PORTS, make_intersection_specs, run_intersections


async def _serve(directory: Path, intersections: int, seed: int, faults: str) -> None:
    specs = make_intersection_specs(intersections, seed)
    for spec in specs:
        spec.faults = parse_faults(faults, PORTS)
    async with run_intersections(specs, directory, clock=resolve_clock()) as handles:
        for handle in handles:
            for port in PORTS:
                path = handle.paths[port]
                print(f"{handle.spec.name} {port} {path} -> {path.readlink()}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m edge_gateway_dev.sim.serial", description=__doc__)
    parser.add_argument("--dir", type=Path, required=True, help="existing directory for the port links")
    parser.add_argument("--intersections", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", default="", help="e.g. rs485.corrupt=0.05,rs485.silent=3,gps.garbage=0.1")
    args = parser.parse_args(argv)
    try:
        parse_faults(args.faults, PORTS)
    except ValueError as exc:
        parser.error(str(exc))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.dir, args.intersections, args.seed, args.faults))


if __name__ == "__main__":
    main()
