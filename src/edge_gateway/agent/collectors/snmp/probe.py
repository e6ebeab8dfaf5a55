"""`edge probe snmp NAME|HOST[:PORT]`: poll one device twice, the way the agent would, and print the readings.

For a technician at an AP: which profile was picked, what the device answers, whether credentials
work, and whether the backhaul is saturated: the two polls `--rate-window-s` apart give `in_bps`,
`out_bps` and `in_util_pct`/`out_util_pct` (of the interface speed) per interface. A device of
`-c edge.toml` is probed by its name with its own credentials. Secrets come from files
(`--community-file`, `--v3-auth-key-file`, `--v3-priv-key-file`) or the environment (`EDGE_PROBE_*`),
so they are not visible in `ps`. When the device does not answer, the failure is classified (see
src/edge_gateway/agent/collectors/snmp/diagnose.py) and printed with a one-line hint. Exit status 0 when the
device
answered, 1 when it did not, 2 on bad arguments. With `--clients`, client MACs are hashed with a key
made up for this run only (hashes differ between runs, and the MACs are still never printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from edge_gateway.agent.collectors.snmp import settings_for
from edge_gateway.agent.collectors.snmp.config import SnmpSection
from edge_gateway.agent.collectors.snmp.diagnose import diagnose
from edge_gateway.agent.collectors.snmp.poller import SnmpPoller, credentials_of
from edge_gateway.agent.collectors.snmp.profile import Profile
from edge_gateway.agent.config import load_agent
from edge_gateway.agent.scheduler import Accumulator, SourceHealth
from edge_gateway.core import schema
from edge_gateway.core.config import ConfigError, Secret
from edge_gateway.core.lineproto import encode
from edge_gateway.core.model import Reading

EXIT_DOWN, EXIT_USAGE = 1, 2
ENV_SECRETS = {"community": "EDGE_PROBE_COMMUNITY", "auth_key": "EDGE_PROBE_AUTH_KEY"}
ENV_SECRETS |= {"priv_key": "EDGE_PROBE_PRIV_KEY"}


def add_probe_parser(subparsers: Any) -> None:
    """Register `snmp` on the subparsers of the `probe` command (`edge probe snmp ...`)."""
    parser = subparsers.add_parser(
        "snmp",
        help="poll one SNMP device twice and print its readings and rates",
        epilog="Secrets may also come from EDGE_PROBE_COMMUNITY, EDGE_PROBE_AUTH_KEY, EDGE_PROBE_PRIV_KEY.",
    )
    parser.add_argument("target", metavar="NAME|HOST[:PORT]", help="a device of -c, or an address")
    parser.add_argument("-c", "--config", type=Path, help="agent config: probe its device NAME")
    parser.add_argument("--community", help="v2c community (default public; visible in ps)")
    parser.add_argument("--community-file", type=Path, help="v2c community, read from this file")
    parser.add_argument("--v3-user", help="SNMPv3 user (switches to v3)")
    parser.add_argument("--auth-protocol", choices=["sha", "md5"])
    parser.add_argument("--auth-key", help="visible in ps: prefer --v3-auth-key-file")
    parser.add_argument("--v3-auth-key-file", type=Path, help="v3 auth key, read from this file")
    parser.add_argument("--priv-protocol", choices=["aes", "des"])
    parser.add_argument("--priv-key", help="visible in ps: prefer --v3-priv-key-file")
    parser.add_argument("--v3-priv-key-file", type=Path, help="v3 privacy key, read from this file")
    parser.add_argument("--profile", default="auto", help="auto (default) or a profile name")
    parser.add_argument("--profiles-dir", type=Path, help="more profiles, *.toml")
    parser.add_argument("--backend", choices=["gufo", "pysnmp"], default="gufo")
    parser.add_argument("--clients", action="store_true", help="also ap_client readings (hashed MACs)")
    parser.add_argument("--timeout-s", type=float, default=2.0, help="per request (default 2)")
    parser.add_argument("--retries", type=int, default=1)
    parser.add_argument(
        "--rate-window-s",
        type=float,
        default=5.0,
        help="seconds between the two polls (default 5; 0: one poll)",
    )
    parser.add_argument("--format", choices=["lp", "table", "json"], default="table")
    parser.set_defaults(func=run_probe)


def _secrets(args: argparse.Namespace) -> dict[str, Any]:
    """Each secret from its option, else its file option, else its environment variable."""
    files = {"community": args.community_file, "auth_key": args.v3_auth_key_file}
    files["priv_key"] = args.v3_priv_key_file
    found: dict[str, Any] = {}
    for key, variable in ENV_SECRETS.items():
        if getattr(args, key):
            found[key] = getattr(args, key)
        elif files[key]:
            found[f"{key}_file"] = files[key]
        elif os.environ.get(variable):
            found[key] = os.environ[variable]
    return found


def _section(args: argparse.Namespace) -> SnmpSection:
    """The device to probe, validated (pydantic, imported here: the running agent's remote probe
    hands `probe` a section it holds already)."""
    from edge_gateway.core.validation import validate

    if args.config:
        configured = load_agent(args.config).snmp
        for known in configured.devices:
            if known.name == args.target:
                update: dict[str, Any] = {"devices": [known]}
                if args.clients and not configured.clients:
                    update["clients"] = True
                if args.clients and not (configured.client_hash_key or configured.client_hash_key_file):
                    update["client_hash_key"] = Secret(secrets.token_hex(16))
                return replace(configured, **update)
        raise ConfigError([f"{args.config}: no SNMP device named {args.target!r}"])
    device: dict[str, Any] = {
        "name": "probe",
        "host": args.target,
        "profile": args.profile,
        "backend": args.backend,
        "timeout_s": args.timeout_s,
        "retries": args.retries,
        "interval_s": 60,
    }
    given = _secrets(args)
    if args.v3_user:
        device |= {"version": "3", "user": args.v3_user}
        device |= {key: value for key, value in given.items() if not key.startswith("community")}
        for key in ("auth_protocol", "priv_protocol"):
            if getattr(args, key):
                device[key] = getattr(args, key)
    else:
        device |= {key: value for key, value in given.items() if key.startswith("community")}
        if "community" not in device and "community_file" not in device:
            device["community"] = "public"
    section: dict[str, Any] = {"devices": [device], "profiles_dir": args.profiles_dir}
    if args.clients:
        section |= {"clients": True, "client_hash_key": secrets.token_hex(16)}
    return validate(SnmpSection, section)


def with_utilisation(reading: Reading) -> Reading:
    """`in_util_pct`/`out_util_pct`: a rate as a share of the interface speed, when both are known."""
    speed_mbps = reading.fields.get("speed_mbps")
    if not isinstance(speed_mbps, int | float) or isinstance(speed_mbps, bool) or speed_mbps <= 0:
        return reading
    extra = {}
    for direction in ("in", "out"):
        rate = reading.fields.get(f"{direction}_bps")
        if isinstance(rate, int | float) and not isinstance(rate, bool):
            extra[f"{direction}_util_pct"] = round(100 * rate / (speed_mbps * 1_000_000), 2)
    if not extra:
        return reading
    return Reading(reading.measurement, reading.tags, {**reading.fields, **extra}, reading.time_ns)


async def probe(
    section: SnmpSection, window_s: float, profiles: dict[str, Profile] | None = None
) -> tuple[list[Reading], bool, str]:
    """The readings of the last poll (rates from the two polls `window_s` apart), whether the
    device answered, and when it did not, the classified failure with its hint. `profiles`: those
    the agent holds, checked already; None loads and checks them (see `settings_for`)."""
    poller = SnmpPoller(section.devices[0], "", settings_for(section, profiles), asyncio.Semaphore(1))
    try:
        acc = Accumulator(SourceHealth())
        await poller.collect(acc)
        if window_s > 0 and _up(acc.readings):
            await asyncio.sleep(window_s)  # the rate window itself, not a wait for a state
            acc = Accumulator(SourceHealth())
            await poller.collect(acc)
    finally:
        await poller.close()
    readings = [with_utilisation(r) for r in acc.readings]
    if _up(readings):
        return readings, True, ""
    status = next((r for r in readings if r.measurement == schema.DEVICE_STATUS), None)
    error = str(status.fields.get("error", "")) if status else ""
    diagnosis = await diagnose(credentials_of(section.devices[0]), error)
    return readings, False, str(diagnosis)


async def probe_once(section: SnmpSection) -> tuple[list[Reading], bool]:
    """The readings of one poll (no rates), and whether the device answered."""
    readings, up, _ = await probe(section, 0)
    return readings, up


def _up(readings: list[Reading]) -> bool:
    return any(r.measurement == schema.DEVICE_STATUS and r.fields.get("up") is True for r in readings)


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
    logging.getLogger("edge_gateway.agent.scheduler").setLevel(
        logging.ERROR
    )  # the exit status and stderr say it
    try:
        section = _section(args)
        readings, up, why = asyncio.run(probe(section, args.rate_window_s))
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return EXIT_USAGE
    print(render(readings, args.format))
    if not up:
        print(f"{args.target}: no answer: {why}", file=sys.stderr)
        return EXIT_DOWN
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m edge_gateway.agent.collectors.snmp.probe HOST ...`, the same as `edge probe snmp HOST
    ...`."""
    parser = argparse.ArgumentParser(prog="edge probe")
    add_probe_parser(parser.add_subparsers(dest="what", required=True))
    args = parser.parse_args(["snmp", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
