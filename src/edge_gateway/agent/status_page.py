"""The HTML of the agent's page, from the snapshot `/api/status` also serves
(src/edge_gateway/agent/status.py).

One self-contained page (no external files: it is opened over an SSH tunnel or on a phone at the
roadside): a health line that says why; a devices table with state since when and why, the key
figures of each kind with units, and the last hour as 60 one-minute cells; the serial buses.
Sorting (click a column), a state filter and a search run in the browser; they are kept in the URL
fragment, so the page's own refresh keeps them. Every link carries the token the page was opened
with: the browser copies its own query string onto them, so the server never writes the token into
the HTML (a saved or cached page holds no secret). On a narrow screen each row becomes a card.
"""

from __future__ import annotations

import html
from typing import Any

UNITS = {"clients": "", "signal_dbm": " dBm", "util_pct": " %", "temp_c": " °C", "rh_pct": " %"}


def bits_per_s(value: float) -> str:
    for unit, size in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value:.0f} bit/s"


def figure(name: str, value: Any) -> str:
    """One key figure with its unit: `in 12.5 Mbit/s`, `signal -61 dBm`, `lane 2 count 14`."""
    if name in ("in_bps", "out_bps") and isinstance(value, int | float):
        return f"{name.removesuffix('_bps')} {bits_per_s(float(value))}"
    label = name.replace("_pct", "").replace("_dbm", "").replace("_c", "").replace("_", " ")
    return f"{label} {value}{UNITS.get(name, '')}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def history(cells: list[bool | None]) -> str:
    spans = "".join(f'<i class="{"n" if c is None else "u" if c else "d"}"></i>' for c in cells)
    return f'<span class="hist" title="last hour, one cell a minute">{spans}</span>'


def _maintenance(d: dict[str, Any]) -> str:
    """In maintenance (an Alertmanager silence on the device or its site): said, with until and why."""
    m = d.get("maintenance")
    if not m:
        return ""
    until = html.escape(m["until"][:16].replace("T", " "))
    what = "site in maintenance" if m["scope"] == "site" else "in maintenance"
    return f'<br><small class="maintenance">{what} until {until} UTC: {html.escape(m["reason"])}</small>'


def _device_row(name: str, d: dict[str, Any]) -> str:
    esc = html.escape
    state = "unknown" if d["last_poll_age_s"] is None else "up" if d["up"] else "down"
    figures = ", ".join(esc(figure(k, v)) for k, v in d["figures"].items())
    age = "" if d["values_age_s"] is None else f" <small>({duration(d['values_age_s'])} ago)</small>"
    cells = [
        ("device", f"{esc(name)}<br><small>{esc(d.get('address', ''))}</small>"),
        ("kind", esc(d["kind"])),
        ("site", esc(d["site"])),
        ("state", f"<b>{state}</b> <small>since {duration(d['since_s'])}</small>{_maintenance(d)}"),
        ("figures", figures + age),
        ("last hour", history(d["history"])),
        ("last poll", f"{duration(d['last_poll_age_s'])} ago, {d['latency_ms']} ms"),
        ("reason", esc(d["error"])),
    ]
    tds = "".join(f'<td data-label="{label}">{value}</td>' for label, value in cells)
    return f'<tr class="{state}" data-since="{d["since_s"] or 0}">{tds}</tr>'


def _bus_row(name: str, b: dict[str, Any]) -> str:
    esc = html.escape
    state = "up" if b.get("up") else "down"
    errors = sum(int(b.get(k, 0)) for k in ("checksum_errors", "malformed_frames", "timeouts"))
    cells = [
        ("bus", esc(name)),
        ("site", esc(str(b.get("site", "")))),
        ("state", f"<b>{state}</b>"),
        ("utilisation", f"{b.get('utilisation_pct', 0)} % (busy {b.get('busy_pct', 0)} %)"),
        ("requests", str(b.get("requests", 0))),
        (
            "errors",
            f"{errors}: {b.get('timeouts', 0)} timeouts, {b.get('checksum_errors', 0)} checksum, "
            f"{b.get('malformed_frames', 0)} malformed, {b.get('bytes_discarded', 0)} bytes discarded",
        ),
        ("reported", f"{duration(b.get('age_s'))} ago"),
    ]
    tds = "".join(f'<td data-label="{label}">{value}</td>' for label, value in cells)
    return f'<tr class="{state}">{tds}</tr>'


def render_page(snap: dict[str, Any], refresh_s: int) -> str:
    esc = html.escape
    devices = "\n".join(_device_row(n, d) for n, d in snap["devices"].items())
    buses = "\n".join(_bus_row(n, b) for n, b in snap["buses"].items())
    buf, up = snap["buffer"], snap["uplink"]
    return PAGE.format(
        gateway=esc(snap["gateway"]),
        refresh_ms=refresh_s * 1000,
        refresh=refresh_s,
        health_class="ok" if snap["healthy"] else "bad",
        health="healthy" if snap["healthy"] else "UNHEALTHY",
        reason=esc(snap["health_reason"]),
        uplink="connected" if up["connected"] else "DOWN",
        buffer=f"{buf['readings']} readings, oldest {buf['oldest_s']} s, dropped {buf['dropped']}",
        devices=devices or '<tr><td colspan="8">no device polled yet</td></tr>',
        buses=buses or '<tr><td colspan="7">no serial bus</td></tr>',
    )


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>edge gateway {gateway}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1em; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }}
td, th {{ border: 1px solid #ccc; padding: .3em .5em; text-align: left; vertical-align: top; }}
th {{ cursor: pointer; background: #f4f4f4; }}
tr.up td:nth-child(4) b, .ok {{ color: #070; }}
tr.down td:nth-child(4) b, tr.down td:nth-child(3) b, .bad {{ color: #b00; }}
.hist {{ white-space: nowrap; }}
.hist i {{ display: inline-block; width: 2px; height: 12px; margin-right: 1px; background: #ddd; }}
.hist i.u {{ background: #3a3; }} .hist i.d {{ background: #c33; }}
.tools {{ display: flex; flex-wrap: wrap; gap: .5em; margin: .5em 0; }}
.tools input {{ flex: 1; min-width: 10em; font-size: 1em; padding: .3em; }}
@media (max-width: 700px) {{
  thead {{ display: none; }}
  table, tbody, tr, td {{ display: block; width: auto; }}
  tr {{ border: 1px solid #999; margin-bottom: .6em; }}
  td {{ border: none; border-bottom: 1px solid #eee; }}
  td::before {{ content: attr(data-label) ": "; font-weight: bold; }}
}}
</style></head><body>
<h1>Gateway {gateway}</h1>
<p id="health">Health: <b class="{health_class}">{health}</b> ({reason}) · Uplink: <b>{uplink}</b>
· Buffer: {buffer}</p>
<div class="tools"><input id="q" type="search" placeholder="search name, kind, site, reason">
<select id="state"><option value="">every state</option><option>up</option><option>down</option>
<option>unknown</option></select></div>
<h2>Devices and sensors</h2>
<table id="devices"><thead><tr><th>device / sensor</th><th>kind</th><th>site</th><th>state</th>
<th>key figures</th><th>last hour</th><th>last poll</th><th>reason</th></tr></thead>
<tbody>
{devices}
</tbody></table>
<h2>Serial buses</h2>
<table id="buses"><thead><tr><th>bus</th><th>site</th><th>state</th><th>utilisation</th>
<th>requests</th><th>errors</th><th>reported</th></tr></thead>
<tbody>
{buses}
</tbody></table>
<p><a id="metrics" href="/metrics">metrics</a> · <a id="json" href="/api/status">JSON</a>
· refreshes every {refresh} s</p>
<script>
"use strict";
const home = "/" + location.search;
for (const link of document.querySelectorAll("a[href^='/']")) link.href += location.search;
const q = document.getElementById("q"), state = document.getElementById("state");
let sortColumn = -1, descending = false;
function apply() {{
  const text = q.value.toLowerCase();
  for (const row of document.querySelectorAll("#devices tbody tr")) {{
    const hit = row.textContent.toLowerCase().includes(text);
    row.hidden = !hit || (state.value !== "" && row.className !== state.value);
  }}
  if (sortColumn >= 0) {{
    const body = document.querySelector("#devices tbody");
    const rows = Array.from(body.rows);
    rows.sort((a, b) => a.cells[sortColumn].textContent.localeCompare(
      b.cells[sortColumn].textContent, undefined, {{numeric: true}}) * (descending ? -1 : 1));
    rows.forEach((row) => body.appendChild(row));
  }}
  history.replaceState(null, "", "#" + new URLSearchParams(
    {{q: q.value, state: state.value, sort: sortColumn, desc: descending ? 1 : 0}}));
}}
const saved = new URLSearchParams(location.hash.slice(1));
q.value = saved.get("q") || ""; state.value = saved.get("state") || "";
sortColumn = Number(saved.get("sort") || -1); descending = saved.get("desc") === "1";
document.querySelectorAll("#devices th").forEach((th, i) => th.addEventListener("click", () => {{
  descending = sortColumn === i ? !descending : false; sortColumn = i; apply();
}}));
q.addEventListener("input", apply); state.addEventListener("change", apply);
apply();
setInterval(() => {{
  if (document.activeElement !== q) location.replace(home + location.hash);
}}, {refresh_ms});
</script>
</body></html>
"""
