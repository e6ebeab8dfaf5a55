"""`/fleet` (a table for the NOC, sortable by a column link) and `/fleet.json` on the bridge's pages.

The rows come from `FleetWatch` (src/edge_gateway/bridge/fleet.py): every gateway that reported a status,
and every
expected one that never did, each with "last seen" and what is wrong.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import asdict

from aiohttp import web

from edge_gateway.bridge.fleet import FleetWatch, Row

COLUMNS = ("gateway", "state", "last_seen", "version", "config_version", "outcome", "problems")


def sorted_rows(rows: list[Row], key: str) -> list[Row]:
    if key == "last_seen":  # the longest silent first, never seen before all
        return sorted(rows, key=lambda row: (row.last_seen_s or 0.0, row.gateway))
    if key == "problems":
        return sorted(rows, key=lambda row: (-len(row.problems), row.gateway))
    column = key if key in COLUMNS else "gateway"
    return sorted(rows, key=lambda row: (str(getattr(row, column)), row.gateway))


def _cell(row: Row, column: str, now_s: float) -> str:
    if column == "last_seen":
        return "never" if row.last_seen_s is None else f"{now_s - row.last_seen_s:.0f} s ago"
    if column == "problems":
        return "; ".join(row.problems) or "ok"
    return str(getattr(row, column))


def render_html(rows: list[Row], now_s: float) -> str:
    head = "".join(f'<th><a href="?sort={c}">{c.replace("_", " ")}</a></th>' for c in COLUMNS)
    body = "".join(
        f'<tr class="{"bad" if row.problems else "ok"}">'
        + "".join(f"<td>{html.escape(_cell(row, c, now_s))}</td>" for c in COLUMNS)
        + "</tr>"
        for row in rows
    )
    wrong = sum(1 for row in rows if row.problems)
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Fleet</title>'
        "<style>td,th{padding:2px 8px;text-align:left}.bad{background:#fdd}</style></head>"
        f"<body><h1>Fleet: {len(rows)} gateways, {wrong} with something wrong</h1>"
        f"<table><tr>{head}</tr>{body}</table></body></html>"
    )


def add_fleet_routes(app: web.Application, watch: FleetWatch) -> None:
    async def page(request: web.Request) -> web.Response:
        now_s = time.time()
        rows = sorted_rows(watch.rows(now_s), request.query.get("sort", "gateway"))
        return web.Response(text=render_html(rows, now_s), content_type="text/html", charset="utf-8")

    async def data(request: web.Request) -> web.Response:
        rows = sorted_rows(watch.rows(time.time()), request.query.get("sort", "gateway"))
        text = json.dumps([asdict(row) for row in rows])
        return web.Response(text=text, content_type="application/json", charset="utf-8")

    app.router.add_get("/fleet", page)
    app.router.add_get("/fleet.json", data)
