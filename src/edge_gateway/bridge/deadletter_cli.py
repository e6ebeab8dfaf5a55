"""The `edge deadletters` command line; the work is in src/edge_gateway/bridge/deadletter_tools.py, imported
on use."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

EXIT_CONFIG = 2


def add_deadletters_parser(sub: Any) -> None:
    """`edge deadletters list|show|replay -c bridge.toml [--id ID]... [--gateway G] [--reason R]`."""
    parser = sub.add_parser("deadletters", help="what the bridge set aside: list, show, replay")
    parser.add_argument("action", choices=["list", "show", "replay"])
    parser.add_argument(
        "--id", dest="ids", type=int, action="append", default=[], help="a record id (from list); repeatable"
    )
    parser.add_argument("-c", "--config", type=Path, required=True, help="bridge TOML file")
    parser.add_argument("--gateway", help="only this gateway's records")
    parser.add_argument("--reason", help="only records with this reason (too_large, malformed, ...)")
    parser.add_argument("--json", action="store_true", help="list: one JSON object per record, no payload")
    parser.set_defaults(func=cmd_deadletters)


def cmd_deadletters(args: argparse.Namespace) -> int:
    from edge_gateway.bridge import deadletter_tools as tools
    from edge_gateway.bridge.config import load_bridge
    from edge_gateway.core.config import ConfigError

    try:
        config = load_bridge(args.config)
    except ConfigError as exc:
        print(f"{args.config}:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    conf = config.bridge
    chosen = tools.select(conf.dead_letter_path, conf.dead_letter_files, args.ids, args.gateway, args.reason)
    if args.action == "list":
        for record in chosen:
            if args.json:
                print(json.dumps({key: value for key, value in record.items() if key != "payload"}))
            else:
                print(tools.summary_line(record))
        return 0
    if args.action == "show":
        for record in chosen:
            print(tools.summary_line(record))
            body = tools.body_of(record).decode("utf-8", errors="backslashreplace")
            print(body, end="" if body.endswith("\n") else "\n")
        return 0
    result = asyncio.run(tools.replay(config, chosen))
    print(
        f"replayed {result.replayed} records: {result.points} points stored, "
        f"{result.set_aside} set aside again, {result.skipped} skipped (truncated)"
    )
    return 0
