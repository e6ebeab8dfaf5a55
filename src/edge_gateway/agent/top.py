"""`edge top [--url URL]`: a live terminal view of a running agent, from its page's JSON (`/api/status`).

For the technician with a laptop or an SSH session: every device with its state and since when,
clients, traffic in and out, utilisation of the interface speed, signal and the last error, refreshed
every `--interval-s`. Keys: `s` next sort column, `r` reverse, `f` next state filter (all, down, up),
`k` next kind, `t` next site, `/` type a search (Enter ends it, Esc clears), `q` quits. `--once`
prints one table and exits (no terminal needed). The token comes from `--token-file` or
`EDGE_STATUS_TOKEN`, never the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import sys
import termios
import time
import tty
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from edge_gateway.agent.status_page import bits_per_s, duration

SORTS = ("name", "site", "kind", "state", "since", "in", "out", "util")
STATES = ("", "down", "up")


@dataclass
class Row:
    name: str
    site: str
    kind: str
    state: str
    since_s: float
    clients: Any
    in_bps: float | None  # None: no uplink figures (a sensor, an AP whose profile names no uplink)
    out_bps: float | None
    util_pct: float | None
    signal: Any
    error: str

    def key(self, column: str) -> Any:
        return {
            "name": self.name,
            "site": self.site,
            "kind": self.kind,
            "state": self.state,
            "since": self.since_s,
            "in": _number(self.in_bps),
            "out": _number(self.out_bps),
            "util": _number(self.util_pct),
        }[column]


def _number(value: float | None) -> float:
    """A figure to sort by: absent ones below every measured one."""
    return -1.0 if value is None else value


def _figure(figures: dict[str, Any], key: str) -> float | None:
    value = figures.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def rows_of(snapshot: dict[str, Any]) -> list[Row]:
    rows = []
    for name, d in snapshot.get("devices", {}).items():
        figures = d.get("figures", d.get("values", {}))
        state = "unknown" if d.get("last_poll_age_s") is None else "up" if d.get("up") else "down"
        rows.append(
            Row(
                name,
                d.get("site", ""),
                d.get("kind", ""),
                state,
                float(d.get("since_s") or 0.0),
                figures.get("clients", ""),
                _figure(figures, "in_bps"),
                _figure(figures, "out_bps"),
                _figure(figures, "util_pct"),
                figures.get("signal_dbm", ""),
                d.get("error", ""),
            )
        )
    return rows


@dataclass
class View:
    """What the keys changed: sort column and order, filters, search."""

    sort: str = "name"
    reverse: bool = False
    state: str = ""
    kind: str = ""
    site: str = ""
    search: str = ""
    typing: bool = False
    kinds: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)

    def press(self, key: str) -> bool:
        """Apply one key; False when it asks to quit."""
        if self.typing:
            if key in ("\r", "\n"):
                self.typing = False
            elif key == "\x1b":
                self.typing, self.search = False, ""
            elif key in ("\x7f", "\b"):
                self.search = self.search[:-1]
            elif key.isprintable():
                self.search += key
            return True
        if key == "q":
            return False
        if key == "s":
            self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        elif key == "r":
            self.reverse = not self.reverse
        elif key == "f":
            self.state = STATES[(STATES.index(self.state) + 1) % len(STATES)]
        elif key == "k":
            self.kind = _next(self.kind, self.kinds)
        elif key == "t":
            self.site = _next(self.site, self.sites)
        elif key == "/":
            self.typing, self.search = True, ""
        elif key == "\x1b":
            self.search = ""
        return True

    def select(self, rows: list[Row]) -> list[Row]:
        self.kinds = sorted({r.kind for r in rows})
        self.sites = sorted({r.site for r in rows})
        text = self.search.lower()
        chosen = [
            r
            for r in rows
            if (not self.state or r.state == self.state)
            and (not self.kind or r.kind == self.kind)
            and (not self.site or r.site == self.site)
            and (not text or text in f"{r.name} {r.site} {r.kind} {r.error}".lower())
        ]
        return sorted(chosen, key=lambda r: (r.key(self.sort), r.name), reverse=self.reverse)


def _next(current: str, choices: list[str]) -> str:
    cycle = ["", *choices]
    return cycle[(cycle.index(current) + 1) % len(cycle)] if current in cycle else ""


def table(snapshot: dict[str, Any], view: View) -> Table:
    rows = view.select(rows_of(snapshot))
    filters = [f"{k}={v}" for k, v in (("state", view.state), ("kind", view.kind), ("site", view.site)) if v]
    if view.search or view.typing:
        filters.append(f"search={view.search}{'_' if view.typing else ''}")
    title = (
        f"{snapshot.get('gateway', '?')} · {'healthy' if snapshot.get('healthy') else 'UNHEALTHY'} "
        f"({snapshot.get('health_reason', '')}) · {len(rows)} shown · sort {view.sort}"
        f"{' desc' if view.reverse else ''}{' · ' + ' '.join(filters) if filters else ''}"
    )
    out = Table(title=title, caption="s sort · r reverse · f state · k kind · t site · / search · q quit")
    for column in ("device", "site", "kind", "state", "since", "clients", "in", "out", "util", "signal"):
        out.add_column(column, no_wrap=True)
    out.add_column("last error")
    for r in rows:
        style = "red" if r.state == "down" else "green" if r.state == "up" else "yellow"
        out.add_row(
            r.name,
            r.site,
            r.kind,
            f"[{style}]{r.state}[/]",
            duration(r.since_s),
            str(r.clients),
            "" if r.in_bps is None else bits_per_s(r.in_bps),
            "" if r.out_bps is None else bits_per_s(r.out_bps),
            "" if r.util_pct is None else f"{r.util_pct:g} %",
            f"{r.signal} dBm" if r.signal != "" else "",
            r.error,
        )
    return out


def fetch(url: str, token: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{url.rstrip('/')}/api/status")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=5) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


def _token(args: argparse.Namespace) -> str:
    if args.token_file:
        return Path(args.token_file).read_text(encoding="utf-8").strip()
    return os.environ.get("EDGE_STATUS_TOKEN", "")


def _unreachable(url: str, exc: Exception) -> dict[str, Any]:
    return {"gateway": url, "healthy": False, "health_reason": f"cannot read the page: {exc}", "devices": {}}


def cmd_top(args: argparse.Namespace) -> int:
    token = _token(args)
    view = View()
    try:
        snapshot = fetch(args.url, token)
    except (OSError, ValueError) as exc:
        if args.once:
            print(f"edge top: {args.url}: {exc}", file=sys.stderr)
            return 1
        snapshot = _unreachable(args.url, exc)
    if args.once or not sys.stdin.isatty():
        Console(width=200).print(table(snapshot, view))
        return 0
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        with Live(table(snapshot, view), screen=True, auto_refresh=False) as live:
            next_fetch_s = time.monotonic() + args.interval_s
            while True:
                ready, _, _ = select.select([fd], [], [], max(0.0, next_fetch_s - time.monotonic()))
                if ready and not view.press(os.read(fd, 1).decode(errors="replace")):
                    return 0
                if time.monotonic() >= next_fetch_s:
                    try:
                        snapshot = fetch(args.url, token)
                    except (OSError, ValueError) as exc:
                        snapshot = _unreachable(args.url, exc)
                    next_fetch_s = time.monotonic() + args.interval_s
                live.update(table(snapshot, view), refresh=True)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def add_top_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("top", help="live terminal view of a running agent (its page's JSON)")
    parser.add_argument("--url", default="http://127.0.0.1:9108", help="the agent's page (default local)")
    parser.add_argument("--token-file", type=Path, help="the page's token (else $EDGE_STATUS_TOKEN)")
    parser.add_argument("--interval-s", type=float, default=2.0, help="refresh period (default 2)")
    parser.add_argument("--once", action="store_true", help="print one table and exit")
    parser.set_defaults(func=cmd_top)
