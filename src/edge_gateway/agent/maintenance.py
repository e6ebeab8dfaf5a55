"""`edge maintenance start DEVICE|SITE --for 2h --reason "..."`: silence one device's or site's alerts.

A technician about to power-cycle an AP or re-terminate a bus tells the NOC once, and the alerts that
work would raise are not paged: an Alertmanager silence on `device=NAME` (or `site=NAME` with
`--site`), which ends by itself at the end of `--for` (Alertmanager expires it; nothing has to remember
to lift it). `edge maintenance list` shows the active ones, `edge maintenance end ID` lifts one early.
Exit status 0 on success, 1 when Alertmanager refused or could not be reached, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

EXIT_FAILED, EXIT_USAGE = 1, 2
UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_DURATION = timedelta(days=7)  # a forgotten silence must not hide a real outage for weeks


def parse_duration(text: str) -> timedelta:
    """`90m`, `2h`, `1h30m`, `1d`: a positive duration of at most MAX_DURATION; ValueError else."""
    parts = re.fullmatch(r"(?:\d+[smhd])+", text.strip())
    if not parts:
        raise ValueError(f"--for {text!r}: expected e.g. 30m, 2h, 1h30m, 1d")
    seconds = sum(int(n) * UNITS_S[unit] for n, unit in re.findall(r"(\d+)([smhd])", text))
    duration = timedelta(seconds=seconds)
    if not timedelta(0) < duration <= MAX_DURATION:
        raise ValueError(f"--for {text!r}: between 1 s and {MAX_DURATION.days} days")
    return duration


def _call(url: str, method: str = "GET", body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def silence(label: str, value: str, duration: timedelta, reason: str, now: datetime) -> dict[str, Any]:
    """The silence as Alertmanager's v2 API takes it."""
    return {
        "matchers": [{"name": label, "value": value, "isRegex": False, "isEqual": True}],
        "startsAt": now.isoformat(),
        "endsAt": (now + duration).isoformat(),
        "createdBy": f"edge maintenance ({getpass.getuser()})",
        "comment": f"maintenance: {reason}",
    }


def cmd_start(args: argparse.Namespace) -> int:
    try:
        duration = parse_duration(args.duration)
    except ValueError as exc:
        print(f"edge maintenance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    label = "site" if args.site else "device"
    now = datetime.now(UTC)
    body = silence(label, args.target, duration, args.reason, now)
    try:
        answer = _call(f"{args.alertmanager_url.rstrip('/')}/api/v2/silences", "POST", body)
    except (OSError, ValueError) as exc:
        print(f"edge maintenance: {args.alertmanager_url}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    ends = (now + duration).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    print(f"silence {answer['silenceID']}: {label}={args.target} until {ends} ({args.reason})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    try:
        silences = _call(f"{args.alertmanager_url.rstrip('/')}/api/v2/silences")
    except (OSError, ValueError) as exc:
        print(f"edge maintenance: {args.alertmanager_url}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for item in silences:
        if item["status"]["state"] != "active":
            continue
        matchers = ",".join(f"{m['name']}={m['value']}" for m in item["matchers"])
        print(f"{item['id']} {matchers} until {item['endsAt']} {item.get('comment', '')}")
    return 0


def cmd_end(args: argparse.Namespace) -> int:
    try:
        _call(f"{args.alertmanager_url.rstrip('/')}/api/v2/silence/{args.id}", "DELETE")
    except (OSError, ValueError) as exc:
        print(f"edge maintenance: {args.alertmanager_url}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"silence {args.id} ended")
    return 0


def add_maintenance_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("maintenance", help="silence a device's or site's alerts for a while")
    actions = parser.add_subparsers(dest="action", required=True)
    start = actions.add_parser("start", help="silence DEVICE (or SITE with --site) for --for")
    start.add_argument("target", metavar="DEVICE|SITE")
    start.add_argument("--site", action="store_true", help="TARGET is a site: silence all of it")
    start.add_argument("--for", dest="duration", required=True, help="e.g. 30m, 2h, 1h30m (at most 7d)")
    start.add_argument("--reason", required=True, help="shown to the NOC with the silence")
    start.set_defaults(func=cmd_start)
    listing = actions.add_parser("list", help="the active silences")
    listing.set_defaults(func=cmd_list)
    end = actions.add_parser("end", help="lift a silence before its end")
    end.add_argument("id")
    end.set_defaults(func=cmd_end)
    for action in (start, listing, end):
        action.add_argument(
            "--alertmanager-url", default="http://127.0.0.1:9093", help="default http://127.0.0.1:9093"
        )
