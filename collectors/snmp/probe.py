"""`edge probe snmp HOST[:PORT]`: poll one device once, the way the agent would, and print the readings.

For a technician at an AP: which profile was picked, what the device answers, whether credentials
work. Exit status 0 when the device answered, 1 when it did not, 2 on bad arguments. With
`--clients`, client MACs are hashed with a key made up for this run only (hashes differ between runs,
and the MACs are still never printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from collectors.snmp import settings_for
from collectors.snmp.poller import SnmpPoller
from edge.config import ConfigError, SnmpSection, problems_of
from edge.lineproto import encode
from edge.model import Reading
from edge.scheduler import Accumulator, SourceHealth

EXIT_DOWN, EXIT_USAGE = 1, 2


def add_probe_parser(subparsers: Any) -> None:
    """Register `snmp` on the subparsers of the `probe` command (`edge probe snmp ...`)."""
    parser = subparsers.add_parser("snmp", help="poll one SNMP device once and print its readings")
    parser.add_argument("target", metavar="HOST[:PORT]")
    parser.add_argument("--community", default="public", help="v2c community (default public)")
    parser.add_argument("--v3-user", help="SNMPv3 user (switches to v3)")
    parser.add_argument("--auth-protocol", choices=["sha", "md5"])
    parser.add_argument("--auth-key")
    parser.add_argument("--priv-protocol", choices=["aes", "des"])
    parser.add_argument("--priv-key")
    parser.add_argument("--profile", default="auto", help="auto (default) or a profile name")
    parser.add_argument("--profiles-dir", type=Path, help="more profiles, *.toml")
    parser.add_argument("--backend", choices=["gufo", "pysnmp"], default="gufo")
    parser.add_argument("--clients", action="store_true", help="also ap_client readings (hashed MACs)")
    parser.add_argument("--timeout-s", type=float, default=2.0, help="per request (default 2)")
    parser.add_argument("--retries", type=int, default=1)
    parser.add_argument("--format", choices=["lp", "table", "json"], default="table")
    parser.set_defaults(func=run_probe)


def _section(args: argparse.Namespace) -> SnmpSection:
    device: dict[str, Any] = {
        "name": "probe",
        "host": args.target,
        "profile": args.profile,
        "backend": args.backend,
        "timeout_s": args.timeout_s,
        "retries": args.retries,
        "interval_s": 60,
    }
    if args.v3_user:
        device |= {"version": "3", "user": args.v3_user}
        for key in ("auth_protocol", "auth_key", "priv_protocol", "priv_key"):
            if getattr(args, key):
                device[key] = getattr(args, key)
    else:
        device["community"] = args.community
    section: dict[str, Any] = {"devices": [device], "profiles_dir": args.profiles_dir}
    if args.clients:
        section |= {"clients": True, "client_hash_key": secrets.token_hex(16)}
    return SnmpSection(**section)


async def probe_once(section: SnmpSection) -> tuple[list[Reading], bool]:
    """The readings of one poll, and whether the device answered."""
    poller = SnmpPoller(section.devices[0], "", settings_for(section), asyncio.Semaphore(1))
    acc = Accumulator(SourceHealth())
    try:
        await poller.collect(acc)
    finally:
        await poller.close()
    up = any(r.measurement == "device_status" and r.fields.get("up") is True for r in acc.readings)
    return acc.readings, up


def _table(readings: list[Reading]) -> str:
    lines = []
    for reading in readings:
        tags = " ".join(f"{k}={v}" for k, v in sorted(reading.tags.items()) if k not in ("device", "site"))
        fields = " ".join(f"{k}={v}" for k, v in reading.fields.items())
        lines.append(f"{reading.measurement:<14} {tags:<40} {fields}")
    return "\n".join(lines)


def render(readings: list[Reading], output: str) -> str:
    if output == "json":
        return json.dumps(
            [
                {
                    "measurement": r.measurement,
                    "tags": {k: v for k, v in r.tags.items() if v},  # line protocol drops empty tags too
                    "fields": dict(r.fields),
                    "time_ns": r.time_ns,
                }
                for r in readings
            ],
            indent=1,
        )
    if output == "lp":
        return "\n".join(line for line in map(encode, readings) if line)
    return _table(readings)


def run_probe(args: argparse.Namespace) -> int:
    logging.getLogger("edge.scheduler").setLevel(logging.ERROR)  # the exit status and stderr say it
    try:
        section = _section(args)
        readings, up = asyncio.run(probe_once(section))
    except ValidationError as exc:
        print("\n".join(problems_of(exc)), file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return EXIT_USAGE
    print(render(readings, args.format))
    if not up:
        status = next((r for r in readings if r.measurement == "device_status"), None)
        print(f"{args.target}: no answer: {status.fields.get('error') if status else ''}", file=sys.stderr)
        return EXIT_DOWN
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m collectors.snmp.probe HOST ...` until `edge probe snmp` is wired in edge/cli.py."""
    parser = argparse.ArgumentParser(prog="edge probe")
    add_probe_parser(parser.add_subparsers(dest="what", required=True))
    args = parser.parse_args(["snmp", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
