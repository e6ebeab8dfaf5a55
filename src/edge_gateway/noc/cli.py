"""`edge dashboards build|push`: regenerate the committed JSON and provisioning files, or upload the
dashboards to a Grafana that is not provisioned from files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from edge_gateway.noc import build as builder
from edge_gateway.noc.provisioning import FOLDER as DEFAULT_FOLDER
from edge_gateway.noc.store import add_store_options, from_bridge_config


def cmd_build(args: argparse.Namespace) -> int:
    out_dir = args.out or builder.PACKAGE_DIR
    for path in builder.write_all(out_dir):
        print(path)
    return 0


def _token(args: argparse.Namespace) -> str:
    if args.token_file is not None:
        return str(args.token_file.read_text(encoding="utf-8").strip())
    return str(args.token)


def cmd_push(args: argparse.Namespace) -> int:
    from edge_gateway.noc.push import PushError, connect, push

    try:
        token = _token(args)
    except OSError as exc:
        print(f"cannot read the token: {exc}", file=sys.stderr)
        return 1
    dashboards = [d.to_json() for d in builder.all_dashboards()]
    try:
        for item in push(connect(args.url, token), dashboards, args.folder):
            print(f"{item.uid} version {item.version} {item.url}")
    except PushError as exc:
        print(f"push failed: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_availability(args: argparse.Namespace) -> int:
    import datetime
    import zoneinfo

    from edge_gateway.noc.availability import Influx, days_due, last_stored_day, store

    problem = from_bridge_config(args)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    zone = zoneinfo.ZoneInfo(args.tz)
    influx = Influx(args.influx_url, args.database, args.authorization)
    try:
        today = datetime.datetime.now(zone).date()
        days = [args.day] if args.day else days_due(last_stored_day(influx, zone), today)
        store(influx, days, zone)
    except (OSError, RuntimeError) as exc:
        print(f"availability not computed: {exc}", file=sys.stderr)
        return 1
    print(f"availability of {', '.join(map(str, days))} and their month to date stored")
    return 0


def cmd_maintenance(args: argparse.Namespace) -> int:
    import time

    from edge_gateway.core.maintenance import fetch
    from edge_gateway.noc.availability import Influx
    from edge_gateway.noc.maintenance import readings

    problem = from_bridge_config(args)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    try:
        points = readings(fetch(args.alertmanager_url), time.time_ns())
        Influx(args.influx_url, args.database, args.authorization).write(points)
    except (OSError, ValueError) as exc:
        print(f"maintenance not copied: {exc}", file=sys.stderr)
        return 1
    print(f"{len(points)} maintenances copied to the boards")
    return 0


def add_dashboards_parser(subparsers: Any) -> None:
    """Register `dashboards build` and `dashboards push` on the `edge` command's subparsers."""
    parser = subparsers.add_parser("dashboards", help="Grafana dashboards: regenerate or upload")
    actions = parser.add_subparsers(dest="action", required=True)
    build = actions.add_parser(
        "build", help="write src/edge_gateway/noc/json and src/edge_gateway/noc/provisioning"
    )
    build.add_argument("--out", type=Path, help="write under this folder instead of the package")
    build.set_defaults(func=cmd_build)
    push = actions.add_parser("push", help="upload into a Grafana folder, replacing older versions")
    push.add_argument("--url", required=True, help="Grafana's base URL, e.g. http://127.0.0.1:3000")
    secret = push.add_mutually_exclusive_group(required=True)
    secret.add_argument("--token", help="service-account token (visible in `ps`: prefer --token-file)")
    secret.add_argument("--token-file", type=Path, help="file holding the token")
    push.add_argument("--folder", default=DEFAULT_FOLDER, help=f"folder title (default {DEFAULT_FOLDER!r})")
    push.set_defaults(func=cmd_push)
    sla = actions.add_parser("availability", help="store the days' availability (and their month to date)")
    add_store_options(sla)
    sla.add_argument(
        "--day",
        type=datetime_date,
        help="YYYY-MM-DD (default: every day from the last one stored through yesterday in --tz)",
    )
    sla.add_argument("--tz", default="Asia/Jakarta", help="the city's time zone (default Asia/Jakarta, WIB)")
    sla.set_defaults(func=cmd_availability)
    work = actions.add_parser("maintenance", help="copy the active maintenances (silences) for the boards")
    work.add_argument("--alertmanager-url", default="http://127.0.0.1:9093", help="Alertmanager's base URL")
    add_store_options(work)
    work.set_defaults(func=cmd_maintenance)


def datetime_date(text: str) -> Any:
    import datetime

    return datetime.date.fromisoformat(text)
