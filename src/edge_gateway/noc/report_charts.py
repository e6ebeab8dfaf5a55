"""The city report's page: HTML, inline CSS, a map drawn from lat/lon and matplotlib charts as SVG.

Nothing is fetched at view time: the charts are SVG embedded as data: URIs (so their ids cannot clash
and their text cannot reach the page's markup), with text drawn as paths (no fonts). Every string from
the data goes through html.escape, and matplotlib's mathtext is off, so a `$` in a site name is text.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from edge_gateway.noc.report import ReportData, ispu_band

ISPU_COLOURS = {
    "Baik": "#2e7d32",
    "Sedang": "#1565c0",
    "Tidak Sehat": "#f9a825",
    "Sangat Tidak Sehat": "#c62828",
    "Berbahaya": "#212121",
}
CSS = (
    "body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}td.num{text-align:right}"
    "section{margin-bottom:2em}.band{color:#fff}.muted{color:#777}"
)
MAP_W, MAP_H, MAP_PAD = 640, 400, 30


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def availability_colour(up_pct: float | None) -> str:
    """Green from 99 % up, orange from 95 %, red below; grey without a figure."""
    if up_pct is None:
        return "#9e9e9e"
    return "#2e7d32" if up_pct >= 99 else "#ef6c00" if up_pct >= 95 else "#c62828"


def _svg_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})  # reproducible
    plt.close(figure)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str, ylabel: str) -> str:
    """A bar chart as an <img> holding its SVG."""
    with matplotlib.rc_context({"text.parse_math": False, "svg.fonttype": "path", "svg.hashsalt": "edge"}):
        figure, axes = plt.subplots(figsize=(max(4.0, 0.5 * len(labels) + 2), 2.8))
        axes.bar(range(len(values)), values, color="#1565c0")
        axes.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 4 else 0, ha="right")
        axes.set_title(title)
        axes.set_ylabel(ylabel)
        uri = _svg_uri(figure)
    return f'<img alt="{_e(title)}" src="{uri}">'


def availability_chart(data: ReportData) -> str:
    sites = [s for s, f in data.sites.items() if f.up_pct is not None]
    with matplotlib.rc_context({"text.parse_math": False, "svg.fonttype": "path", "svg.hashsalt": "edge"}):
        figure, axes = plt.subplots(figsize=(7.0, max(2.0, 0.3 * len(sites) + 1)))
        left = [0.0] * len(sites)
        for name, colour in (("up", "#2e7d32"), ("down", "#c62828"), ("unknown", "#9e9e9e")):
            values = [getattr(data.sites[s], f"{name}_pct") or 0.0 for s in sites]
            axes.barh(range(len(sites)), values, left=left, color=colour, label=name)
            left = [a + b for a, b in zip(left, values, strict=True)]
        axes.set_yticks(range(len(sites)), sites)
        axes.set_xlabel("% of the period")
        axes.legend(loc="lower left", fontsize="small")
        uri = _svg_uri(figure)
    return f'<img alt="availability per site" src="{uri}">'


def site_map(data: ReportData) -> str:
    """Sites drawn where they are: an equirectangular projection scaled by cos(latitude)."""
    placed = [
        (s, f.lat, f.lon, f.up_pct) for s, f in data.sites.items() if f.lat is not None and f.lon is not None
    ]
    if not placed:
        return '<p class="muted">No site reported a position in the period.</p>'
    lats = [lat for _, lat, _, _ in placed]
    lons = [lon for _, _, lon, _ in placed]
    x_scale = math.cos(math.radians(sum(lats) / len(lats)))
    width = max((max(lons) - min(lons)) * x_scale, 1e-6)
    height = max(max(lats) - min(lats), 1e-6)
    scale = min((MAP_W - 2 * MAP_PAD) / width, (MAP_H - 2 * MAP_PAD) / height)
    marks = []
    for site, lat, lon, up_pct in placed:
        x = MAP_PAD + (lon - min(lons)) * x_scale * scale
        y = MAP_H - MAP_PAD - (lat - min(lats)) * scale
        marks.append(
            f'<g class="site" data-site="{_e(site)}"><circle cx="{x:.1f}" cy="{y:.1f}" r="7" '
            f'fill="{availability_colour(up_pct)}">'
            f"<title>{_e(site)}: {_pct(up_pct)} % up</title></circle>"
            f'<text x="{x + 9:.1f}" y="{y + 4:.1f}" font-size="11">{_e(site)}</text></g>'
        )
    return (
        f'<svg id="map" width="{MAP_W}" height="{MAP_H}" viewBox="0 0 {MAP_W} {MAP_H}" role="img">'
        f'<rect width="{MAP_W}" height="{MAP_H}" fill="#f5f5f0"/>{"".join(marks)}</svg>'
    )


def _availability_table(data: ReportData) -> str:
    rows = "".join(
        f'<tr data-site="{_e(site)}"><td>{_e(site)}</td><td class="num up">{_pct(f.up_pct)}</td>'
        f'<td class="num">{_pct(f.down_pct)}</td><td class="num">{_pct(f.unknown_pct)}</td>'
        f"<td>{'computed from device_status' if f.computed else 'stored'}</td></tr>"
        for site, f in sorted(data.sites.items())
    )
    return (
        '<table id="availability"><tr><th>site</th><th>up %</th><th>down %</th><th>unknown %</th>'
        f"<th>source</th></tr>{rows}</table>"
    )


def _air_table(data: ReportData) -> str:
    if not data.pm25_per_day:
        return '<p class="muted">No PM2.5 readings in the period.</p>'
    rows = []
    for (site, day), mean in data.pm25_per_day.items():
        band = ispu_band(mean)
        rows.append(
            f'<tr data-site="{_e(site)}" data-day="{day}"><td>{_e(site)}</td><td>{day}</td>'
            f'<td class="num pm25">{mean:.1f}</td>'
            f'<td class="band" style="background:{ISPU_COLOURS[band]}">{_e(band)}</td></tr>'
        )
    return (
        '<table id="air"><tr><th>site</th><th>day</th><th>PM2.5 mean µg/m³</th><th>ISPU</th></tr>'
        f"{''.join(rows)}</table>"
    )


def _traffic_table(data: ReportData) -> str:
    rows = "".join(
        f'<tr data-site="{_e(site)}"><td>{_e(site)}</td><td class="num vehicles">{volume}</td></tr>'
        for site, volume in data.vehicles_per_site.items()
    )
    return f'<table id="traffic"><tr><th>intersection</th><th>vehicles</th></tr>{rows}</table>'


def _incidents_table(data: ReportData) -> str:
    if not data.incidents:
        return '<p class="muted">No alert fired in the period.</p>'
    rows = "".join(
        f"<tr><td>{i.start:%Y-%m-%d %H:%M}</td><td>{'firing' if i.end is None else f'{i.end:%Y-%m-%d %H:%M}'}"
        f"</td><td>{_e(i.alertname)}</td><td>{_e(i.severity)}</td><td>{_e(i.where)}</td><td>{_e(i.summary)}</td></tr>"
        for i in data.incidents
    )
    return (
        '<table id="incidents"><tr><th>from</th><th>to</th><th>alert</th><th>severity</th><th>where</th>'
        f"<th>summary</th></tr>{rows}</table>"
    )


def _clients_section(data: ReportData) -> str:
    if not data.clients_per_day:
        return '<p class="muted">No client readings in the period (the agents\' client polling is off).</p>'
    days = [str(day) for day in data.clients_per_day]
    rows = "".join(
        f'<tr data-day="{day}"><td>{day}</td><td class="num clients">{count}</td></tr>'
        for day, count in data.clients_per_day.items()
    )
    chart = bar_chart(days, list(data.clients_per_day.values()), "Clients served per day", "clients")
    return f'{chart}<table id="clients"><tr><th>day</th><th>distinct clients</th></tr>{rows}</table>'


def render_html(data: ReportData) -> str:
    """The whole page."""
    period = f"{data.start:%Y-%m-%d %H:%M} to {data.end:%Y-%m-%d %H:%M %Z}"
    hours = [f"{h:02d}" for h in range(24)]
    busiest = bar_chart(hours, data.clients_by_hour, "Clients connected by hour of day (mean)", "clients")
    traffic_chart = (
        bar_chart(list(data.vehicles_per_site), list(data.vehicles_per_site.values()), "Vehicles", "vehicles")
        if data.vehicles_per_site
        else ""
    )
    sections = (
        (
            "Map of sites",
            site_map(data)
            + '<p class="muted">Green ≥ 99 % up, orange ≥ 95 %, red below, grey: no figure.</p>',
        ),
        ("Availability per site", availability_chart(data) + _availability_table(data)),
        ("Clients served per day", _clients_section(data)),
        ("Busiest hours", busiest),
        ("Air quality (ISPU, daily mean PM2.5)", _air_table(data)),
        ("Traffic per intersection", traffic_chart + _traffic_table(data)),
        ("Incidents", _incidents_table(data)),
    )
    body = "".join(f"<section><h2>{_e(title)}</h2>{content}</section>" for title, content in sections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">"
        f"<title>City report {_e(period)}</title><style>{CSS}</style></head>"
        f"<body><h1>City report</h1><p>{_e(period)}</p>{body}</body></html>\n"
    )
