"""The city report: one self-contained HTML page of a period, for people without Grafana.

`edge report --from ISO --to ISO --out report.html` reads InfluxDB (docs/dashboards.md, "City
report") and writes a page that needs no network to view: the charts are SVG rendered here by
matplotlib, the map is drawn from lat/lon, and every string from the data is escaped (it comes from
gateways). This module gathers the figures; src/edge_gateway/noc/report_charts.py renders them.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_gateway.alerts.thresholds import ISPU_PM25_BAND_STARTS_UG_M3
from edge_gateway.core import schema
from edge_gateway.noc.availability import Influx, Key, Seconds, device_seconds
from edge_gateway.noc.store import add_store_options, from_bridge_config

ISPU_BANDS = ("Baik", "Sedang", "Tidak Sehat", "Sangat Tidak Sehat", "Berbahaya")
MAX_INCIDENTS = 200


@dataclass
class SiteFigures:
    """A site's position and availability over the period (percentages; None: no figure)."""

    lat: float | None = None
    lon: float | None = None
    up_pct: float | None = None
    down_pct: float | None = None
    unknown_pct: float | None = None
    computed: bool = False  # from device_status, not the stored `availability`


@dataclass
class Incident:
    """One firing episode of an alert: from its first firing point to the point that resolved it."""

    start: datetime.datetime
    end: datetime.datetime | None  # None: still firing at the end of the period
    alertname: str
    severity: str
    where: str
    summary: str


@dataclass
class ReportData:
    start: datetime.datetime
    end: datetime.datetime
    sites: dict[str, SiteFigures] = field(default_factory=dict)
    clients_per_day: dict[datetime.date, int] = field(default_factory=dict)
    clients_by_hour: list[float] = field(default_factory=lambda: [0.0] * 24)
    pm25_per_day: dict[tuple[str, datetime.date], float] = field(default_factory=dict)
    vehicles_per_site: dict[str, int] = field(default_factory=dict)
    incidents: list[Incident] = field(default_factory=list)


def ispu_band(pm25_24h_ug_m3: float) -> str:
    """The ISPU category of a 24-hour mean PM2.5, with the band starts of
    src/edge_gateway/alerts/thresholds.py."""
    index = sum(1 for start in ISPU_PM25_BAND_STARTS_UG_M3 if pm25_24h_ug_m3 >= start)
    return ISPU_BANDS[index]


def _ns(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1e9)


def _when(start: datetime.datetime, end: datetime.datetime) -> str:
    return f"time >= {_ns(start)} AND time < {_ns(end)}"


def _at(time_ns: int, zone: datetime.tzinfo) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(time_ns / 1e9, zone)


def _sites(influx: Influx, data: ReportData) -> None:
    when = _when(data.start, data.end)
    query = f'SELECT mean("lat"), mean("lon") FROM "{schema.DEVICE_STATUS}" WHERE {when} GROUP BY "site"'
    for series in influx.query(query):
        site = series.get("tags", {}).get("site", "")
        _, lat, lon = series["values"][0]
        data.sites[site] = SiteFigures(lat=lat, lon=lon)
    query = (
        f'SELECT mean("up_pct"), mean("down_pct"), mean("unknown_pct") FROM "{schema.AVAILABILITY}" '
        f'WHERE "period" = \'day\' AND "scope" = \'site\' AND {_when(data.start, data.end)} GROUP BY "site"'
    )
    for series in influx.query(query):
        site = series.get("tags", {}).get("site", "")
        _, up_pct, down_pct, unknown_pct = series["values"][0]
        figures = data.sites.setdefault(site, SiteFigures())
        figures.up_pct, figures.down_pct, figures.unknown_pct = up_pct, down_pct, unknown_pct
    if any(figures.up_pct is None for figures in data.sites.values()):
        _computed_availability(influx, data)


def _computed_availability(influx: Influx, data: ReportData) -> None:
    """Sites with no stored `availability` in the period: up/down/unknown from their device_status."""
    query = (
        f'SELECT "up" FROM "{schema.DEVICE_STATUS}" '
        f"WHERE {_when(data.start - datetime.timedelta(hours=1), data.end)} "
        'GROUP BY "gateway", "device", "site"'
    )
    per_site: dict[str, Seconds] = defaultdict(Seconds)
    for series in influx.query(query):
        tags = series.get("tags", {})
        key: Key = (tags.get("gateway", ""), tags.get("device", ""), tags.get("site", ""))
        polls = [(row[0] / 1e9, row[1] is True) for row in series["values"] if row[1] is not None]
        per_site[key[2]].add(device_seconds(polls, data.start.timestamp(), data.end.timestamp()))
    for site, seconds in per_site.items():
        figures = data.sites.setdefault(site, SiteFigures())
        if figures.up_pct is None:
            pct = seconds.fields()
            figures.up_pct, figures.down_pct = pct["up_pct"], pct["down_pct"]
            figures.unknown_pct, figures.computed = pct["unknown_pct"], True


def _clients(influx: Influx, data: ReportData, zone: datetime.tzinfo) -> None:
    """Distinct clients (hashed) seen per local day; mean clients connected city-wide per hour of day."""
    query = (
        f'SELECT count("uptime_s") FROM "{schema.AP_CLIENT}" WHERE {_when(data.start, data.end)} '
        'GROUP BY time(1h), "client" fill(none)'
    )
    seen: dict[datetime.date, set[str]] = defaultdict(set)
    for series in influx.query(query):
        client = series.get("tags", {}).get("client", "")
        for time_ns, count in series["values"]:
            if count:
                seen[_at(time_ns, zone).date()].add(client)
    data.clients_per_day = {day: len(clients) for day, clients in sorted(seen.items())}
    query = (
        f'SELECT mean("clients") FROM "{schema.AP}" WHERE {_when(data.start, data.end)} '
        'GROUP BY time(1h), "gateway", "device" fill(none)'
    )
    per_bucket: dict[int, float] = defaultdict(float)
    for series in influx.query(query):
        for time_ns, mean in series["values"]:
            per_bucket[time_ns] += mean or 0.0
    by_hour: dict[int, list[float]] = defaultdict(list)
    for time_ns, total in per_bucket.items():
        by_hour[_at(time_ns, zone).hour].append(total)
    data.clients_by_hour = [sum(v) / len(v) if v else 0.0 for v in (by_hour[h] for h in range(24))]


def _air(influx: Influx, data: ReportData, zone: datetime.tzinfo) -> None:
    """Mean PM2.5 of each site's local day, from hourly sums and counts (exact, whatever the zone)."""
    query = (
        f'SELECT sum("pm25"), count("pm25") FROM "{schema.AIR_QUALITY}" WHERE {_when(data.start, data.end)} '
        'GROUP BY time(1h), "site" fill(none)'
    )
    sums: dict[tuple[str, datetime.date], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for series in influx.query(query):
        site = series.get("tags", {}).get("site", "")
        for time_ns, total, count in series["values"]:
            pair = sums[(site, _at(time_ns, zone).date())]
            pair[0] += total or 0.0
            pair[1] += count or 0
    data.pm25_per_day = {key: total / count for key, (total, count) in sorted(sums.items()) if count}


def _traffic(influx: Influx, data: ReportData) -> None:
    """Vehicles per intersection: each lane counted once, by its primary sensor as on the board (a
    radar and a loop detector on the same lane must not double it), and by the sensor that saw most
    where two primary ones share a lane."""
    when = _when(data.start, data.end)
    query = (
        f'SELECT sum("volume") FROM "{schema.TRAFFIC}" WHERE {when} AND "primary" != \'false\' '
        'GROUP BY "site", "lane", "sensor"'
    )
    per_lane: dict[tuple[str, str], int] = {}
    for series in influx.query(query):
        tags = series.get("tags", {})
        lane = (tags.get("site", ""), tags.get("lane", ""))
        per_lane[lane] = max(per_lane.get(lane, 0), int(series["values"][0][1] or 0))
    totals: dict[str, int] = defaultdict(int)
    for (site, _), volume in per_lane.items():
        totals[site] += volume
    data.vehicles_per_site = dict(sorted(totals.items()))


def _incidents(influx: Influx, data: ReportData, zone: datetime.tzinfo) -> None:
    query = (
        f'SELECT "firing", "summary" FROM "{schema.ALERTS}" WHERE {_when(data.start, data.end)} GROUP BY *'
    )
    for series in influx.query(query):
        tags: dict[str, str] = series.get("tags", {})
        where = " ".join(
            v
            for k in ("gateway", "site", "device", "sensor", "radio", "ifname", "lane")
            if (v := tags.get(k))
        )
        current: Incident | None = None
        for time_ns, firing, summary in series["values"]:
            if firing is True and current is None:
                current = Incident(
                    _at(time_ns, zone),
                    None,
                    tags.get("alertname", ""),
                    tags.get("severity", ""),
                    where,
                    summary or "",
                )
                data.incidents.append(current)
            elif firing is False and current is not None:
                current.end, current = _at(time_ns, zone), None
    data.incidents.sort(key=lambda incident: incident.start)
    del data.incidents[MAX_INCIDENTS:]


def gather(
    influx: Influx, start: datetime.datetime, end: datetime.datetime, zone: datetime.tzinfo
) -> ReportData:
    """Every figure of the report for [start, end)."""
    data = ReportData(start.astimezone(zone), end.astimezone(zone))
    _sites(influx, data)
    _clients(influx, data, zone)
    _air(influx, data, zone)
    _traffic(influx, data)
    _incidents(influx, data, zone)
    return data


def _instant(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r}: give a time zone, e.g. {text}+07:00")
    return moment


def cmd_report(args: argparse.Namespace) -> int:
    from edge_gateway.noc.report_charts import render_html

    problem = from_bridge_config(args)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    if args.end <= args.start:
        print("--to must be after --from", file=sys.stderr)
        return 2
    zone = zoneinfo.ZoneInfo(args.tz)
    try:
        data = gather(Influx(args.influx_url, args.database, args.authorization), args.start, args.end, zone)
    except (OSError, RuntimeError) as exc:
        print(f"report not written: {exc}", file=sys.stderr)
        return 1
    args.out.write_text(render_html(data), encoding="utf-8")
    print(f"report of {len(data.sites)} sites, {len(data.incidents)} incidents written to {args.out}")
    return 0


def add_report_parser(subparsers: Any) -> None:
    """Register `edge report` on the `edge` command's subparsers."""
    report = subparsers.add_parser("report", help="a self-contained HTML city report of a period")
    report.add_argument("--from", dest="start", type=_instant, required=True, metavar="ISO8601")
    report.add_argument("--to", dest="end", type=_instant, required=True, metavar="ISO8601")
    report.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    add_store_options(report)
    report.add_argument(
        "--tz", default="Asia/Jakarta", help="the city's time zone (default Asia/Jakarta, WIB)"
    )
    report.set_defaults(func=cmd_report)
