"""`edge fleet keygen|status|push`: the NOC's commands for its gateways (docs/fleet.md).

`status` and `push` read the broker settings from the bridge config (`[mqtt]`, with the NOC's login
from `[fleet]` when it names one) and the expected gateways from `[fleet] expected`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_gateway.bridge.fleet import (
    Row,
    fleet_rows,
    matching,
    noc_connection,
    read_statuses,
)
from edge_gateway.bridge.fleet_rollout import Rollout, describe, staged_push
from edge_gateway.bridge.fleet_sign import keygen, load_private_key, sign_config
from edge_gateway.core.config import ConfigError, read_toml

SORT_KEYS = ("gateway", "state", "last_seen", "problems")
STATUS_PAGE_MAX_BYTES = 16 * 2**20
PLACEHOLDER = "{gateway_id}"  # in a config for many gateways: replaced by each target's id


def _load(path: Path) -> Any:
    from edge_gateway.bridge.config import load_bridge

    return load_bridge(path)


def _signing_key(config: Any) -> Ed25519PrivateKey:
    """The NOC's private key from `[fleet] key_file`; a missing or unusable one is a config problem."""
    path = config.fleet.key_file
    if path is None:
        raise ConfigError(["fleet.key_file: not set: the NOC cannot sign"])
    try:
        return load_private_key(path)
    except OSError as exc:
        raise ConfigError([f"fleet.key_file: cannot read {path}: {exc.strerror or exc}"]) from exc
    except (ValueError, TypeError) as exc:  # not PEM, not Ed25519, or encrypted with a password
        raise ConfigError([f"fleet.key_file: {path}: not an unencrypted Ed25519 private key (PEM)"]) from exc


def _config_text(path: Path) -> str:
    """The agent config to push, refused before signing when it is not a TOML file."""
    read_toml(path)
    return path.read_text()


def _age(row: Row, now_s: float) -> str:
    return "never" if row.last_seen_s is None else f"{now_s - row.last_seen_s:.0f} s ago"


def render_table(rows: list[Row], now_s: float) -> str:
    header = ("GATEWAY", "STATE", "LAST SEEN", "VERSION", "CONFIG", "WHAT IS WRONG")
    body = [
        (r.gateway, r.state, _age(r, now_s), r.version, str(r.config_version), "; ".join(r.problems) or "-")
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)) + "  " + line[-1]
        for line in [header, *body]
    )


def sort_rows(rows: list[Row], key: str) -> list[Row]:
    order = {
        "gateway": lambda r: (r.gateway,),
        "state": lambda r: (r.state, r.gateway),
        "last_seen": lambda r: (r.last_seen_s or 0.0, r.gateway),  # the longest silent first
        "problems": lambda r: (-len(r.problems), r.gateway),
    }[key]
    return sorted(rows, key=order)


def cmd_keygen(args: argparse.Namespace) -> int:
    try:
        keygen(args.private, args.public)
    except FileExistsError:
        print(
            f"{args.private} exists: every gateway trusts its public half; not overwritten", file=sys.stderr
        )
        return 1
    print(f"private key {args.private} (keep at the NOC, mode 0600); public key {args.public} (install it)")
    return 0


def _from_page(url: str) -> list[Row]:
    """The rows of a bridge's `/fleet.json` (the bridge already holds every status)."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return [Row(**row) for row in json.loads(response.read(STATUS_PAGE_MAX_BYTES))]


def cmd_status(args: argparse.Namespace) -> int:
    now_s = time.time()
    if args.url:
        rows = sort_rows(_from_page(args.url), args.sort)
        print(json.dumps([asdict(row) for row in rows], indent=1) if args.json else render_table(rows, now_s))
        return 1 if any(row.problems for row in rows) else 0
    config = _load(args.config)
    statuses = asyncio.run(read_statuses(noc_connection(config.mqtt, config.fleet)))
    rows = sort_rows(
        fleet_rows(statuses, config.fleet.expected, now_s, config.fleet.stale_after_s), args.sort
    )
    if args.json:
        print(json.dumps([asdict(row) for row in rows], indent=1))
    else:
        print(render_table(rows, now_s))
    return 1 if any(row.problems for row in rows) else 0


async def _push(args: argparse.Namespace) -> Rollout:
    config = _load(args.config)
    key, text = _signing_key(config), _config_text(args.file)
    conn = noc_connection(config.mqtt, config.fleet)
    known = sorted(set(config.fleet.expected) | set(await read_statuses(conn)))
    targets = matching(args.gateways, known)
    if not targets:
        raise SystemExit(f"no known gateway matches {args.gateways!r}")
    if len(targets) > 1 and PLACEHOLDER not in text:
        raise SystemExit(f"{args.file} goes to {len(targets)} gateways: name each one as {PLACEHOLDER}")
    version = args.version or time.time_ns() // 1_000_000  # grows across NOC hosts without shared state
    pushed_s = time.time()
    texts = {target: text.replace(PLACEHOLDER, target) for target in targets}
    payloads = {target: sign_config(key, target, version, texts[target]) for target in targets}
    print(f"pushing version {version} to {len(targets)} gateways", file=sys.stderr)
    return await staged_push(
        conn, payloads, version, args.canary, args.wait_s, args.settle_s, pushed_s, _progress
    )


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_push(args: argparse.Namespace) -> int:
    report = asyncio.run(_push(args))
    print("\n".join(describe(report)))
    return 0 if report.ok else 1


async def _probe(args: argparse.Namespace) -> dict[str, Any] | None:
    from edge_gateway.bridge.fleet_probe import (
        EXPIRES_AFTER_S,
        ask,
        not_listening,
        retained_status,
        sign_probe,
    )

    config = _load(args.config)
    key = _signing_key(config)
    conn = noc_connection(config.mqtt, config.fleet)
    why = not_listening(args.gateway, await retained_status(conn, args.gateway))
    if why is not None:
        return {"ok": False, "refused": "remote_config", "error": why}
    request = sign_probe(key, args.gateway, args.device, time.time() + EXPIRES_AFTER_S)
    return await ask(conn, args.gateway, request, args.wait_s)


def cmd_probe(args: argparse.Namespace) -> int:
    """The gateway's answer: the device's readings of one poll, or why there are none; exit 0 only
    when the device answered."""
    answer = asyncio.run(_probe(args))
    where = f"{args.gateway} {args.device}"
    if answer is None:
        print(f"{where}: no answer within {args.wait_s:g} s")
        return 1
    if not answer.get("ok"):
        print(f"{where}: {'refused: ' if 'refused' in answer else ''}{answer.get('error', 'failed')}")
        return 1
    up = answer.get("up") is True
    print(
        f"{where}: {'up' if up else 'down'}" + (f": {answer['diagnosis']}" if answer.get("diagnosis") else "")
    )
    print("\n".join(str(line) for line in answer.get("readings", [])))
    return 0 if up else 1


def add_fleet_parser(sub: Any) -> None:
    fleet = sub.add_parser("fleet", help="the NOC's gateways: inventory, signed remote configuration")
    what = fleet.add_subparsers(dest="fleet_command", required=True)
    keys = what.add_parser("keygen", help="the NOC's Ed25519 key pair")
    keys.add_argument("--private", type=Path, required=True, help="write the private key here (0600)")
    keys.add_argument("--public", type=Path, required=True, help="write the public key here")
    keys.set_defaults(func=cmd_keygen)
    status = what.add_parser("status", help="every gateway from its retained status; exit 1 if any is wrong")
    source = status.add_mutually_exclusive_group(required=True)
    source.add_argument("-c", "--config", type=Path, help="bridge TOML ([mqtt], [fleet]): read the broker")
    source.add_argument("--url", help="or a bridge's page, e.g. http://bridge:9465/fleet.json")
    status.add_argument("--sort", choices=SORT_KEYS, default="gateway")
    status.add_argument("--json", action="store_true", help="one JSON array of rows")
    status.set_defaults(func=cmd_status)
    send = what.add_parser("push", help="sign an agent config and send it; print each gateway's outcome")
    send.add_argument(
        "file", type=Path, help="agent TOML to send; {gateway_id} in it becomes each target's id"
    )
    send.add_argument("--gateways", required=True, help="shell pattern over known gateway ids, e.g. 'cbn-*'")
    send.add_argument("-c", "--config", type=Path, required=True, help="bridge TOML ([mqtt], [fleet])")
    send.add_argument("--version", type=int, help="default: the time in ms (must grow per gateway)")
    send.add_argument("--wait-s", type=float, default=60.0, help="wait this long for the outcomes")
    send.add_argument(
        "--canary", type=int, default=0, help="push to the first N matching gateways, the rest once healthy"
    )
    send.add_argument(
        "--settle-s",
        type=float,
        default=0.0,
        help="the canaries, once they have kept the new version, must stay online on it this long",
    )
    send.set_defaults(func=cmd_push)
    ask = what.add_parser(
        "probe", help="ask a gateway to probe one of its devices (SNMP, camera, serial); print its answer"
    )
    ask.add_argument("gateway", help="the gateway id")
    ask.add_argument("device", help="a device name in that gateway's config")
    ask.add_argument("-c", "--config", type=Path, required=True, help="bridge TOML ([mqtt], [fleet])")
    ask.add_argument("--wait-s", type=float, default=40.0, help="wait this long for the answer")
    ask.set_defaults(func=cmd_probe)
