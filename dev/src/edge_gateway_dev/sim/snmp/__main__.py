"""`python -m edge_gateway_dev.sim.snmp --aps 50 --seed 7 [--faults ap-003:no_reply;ap-007:delay_ms=800]`

Prints one JSON line describing every AP (name, vendor, host, port, credentials) once all sockets are
bound, then serves until SIGINT/SIGTERM, on the clock EDGE_SIM_CLOCK / EDGE_SIM_TIME_SCALE ask for
(edge_gateway_dev.sim.clock; the wall clock without them). On exit it prints the process CPU seconds it used
as JSON
(`{"cpu_s": ...}`), for whoever started it to account for.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from edge_gateway_dev.sim.clock import resolve_clock
from edge_gateway_dev.sim.snmp.fleet import ApHandle, make_fleet_specs, run_forever


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge_gateway_dev.sim.snmp", description=__doc__)
    parser.add_argument("--aps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", default="", help="NAME:fault[=v],fault...;NAME:... per AP")
    args = parser.parse_args(argv)
    specs = make_fleet_specs(args.aps, args.seed)
    by_name = {spec.name: spec for spec in specs}
    for item in filter(None, args.faults.split(";")):
        name, _, text = item.partition(":")
        if name not in by_name:
            parser.error(f"no AP named {name!r}")
        by_name[name].faults.update(text)

    def ready(handles: list[ApHandle]) -> None:
        print(json.dumps([handle.describe() for handle in handles]), flush=True)

    run_forever(specs, ready, clock=resolve_clock())
    print(json.dumps({"cpu_s": time.process_time()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
