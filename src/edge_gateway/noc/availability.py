"""Availability (SLA) per device, per site and for the city, per day and month: up, down and unknown.

Each status a device's poll wrote stands for the time until its next poll, but for at most two of
its poll intervals (the same rule as "up" on the boards, src/edge_gateway/noc/liveness.py); a longer silence
is *unknown*: the gateway was off, or its data never arrived. "We could not see it" is never counted
as the device's fault. A backhaul outage is usually not unknown: the gateway kept polling into its
buffer and the backlog arrives later, so a day is best computed once its data is in: the shipped
timer (deploy/systemd/edge-availability.timer) runs `edge dashboards availability` at 01:30. Each
run computes every day from the last one stored (again: a backlog may have arrived since) through
yesterday, so days missed while the NOC was down are caught up, at most `MAX_CATCH_UP_DAYS`. A day's
points have fixed tags and time, so computing it again overwrites them: re-running is harmless. The
poll interval of a device is the median gap between its polls that day.

Stored as the measurement `availability` (docs/schema.md): tags `period` (`day`, `month`), `scope`
(`device`, `site`, `city`) and `gateway`, `device`, `site` as the scope has them; fields `up_s`,
`down_s`, `unknown_s` and the same as `_pct` of the period; time = the start of the period in the
city's time zone. A month is the sum of its days computed so far (month to date).
"""

from __future__ import annotations

import datetime
import itertools
import json
import statistics
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from edge_gateway.core import schema
from edge_gateway.core.lineproto import encode_many
from edge_gateway.core.model import Reading

DEFAULT_INTERVAL_S = 30.0  # a device with a single poll that day
MAX_CATCH_UP_DAYS = 31  # a longer gap is filled with `--day`, one day at a time
Key = tuple[str, str, str]  # gateway, device, site


@dataclass
class Seconds:
    up_s: float = 0.0
    down_s: float = 0.0
    unknown_s: float = 0.0

    def add(self, other: Seconds) -> None:
        self.up_s += other.up_s
        self.down_s += other.down_s
        self.unknown_s += other.unknown_s

    def fields(self) -> dict[str, float]:
        total_s = self.up_s + self.down_s + self.unknown_s or 1.0
        out: dict[str, float] = {}
        for name, value_s in (("up", self.up_s), ("down", self.down_s), ("unknown", self.unknown_s)):
            out[f"{name}_s"] = round(value_s, 3)
            out[f"{name}_pct"] = round(100 * value_s / total_s, 3)
        return out


def device_seconds(polls: Sequence[tuple[float, bool]], start_s: float, end_s: float) -> Seconds:
    """Up, down and unknown seconds of [start_s, end_s) from (time, up) polls in time order (polls
    before start_s count for the time they reach into the period)."""
    times = [t for t, _ in polls]
    gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
    interval_s = statistics.median(gaps) if gaps else DEFAULT_INTERVAL_S
    result = Seconds()
    for index, (time_s, up) in enumerate(polls):
        next_s = polls[index + 1][0] if index + 1 < len(polls) else end_s
        span = min(next_s, time_s + 2 * interval_s, end_s) - max(time_s, start_s)
        if span > 0:
            if up:
                result.up_s += span
            else:
                result.down_s += span
    result.unknown_s = (end_s - start_s) - result.up_s - result.down_s
    return result


def rollup(per_device: Mapping[Key, Seconds]) -> dict[tuple[str, Key], Seconds]:
    """Device figures, and their sums per site and for the city."""
    out: dict[tuple[str, Key], Seconds] = {}
    for (gateway, device, site), seconds in per_device.items():
        out[("device", (gateway, device, site))] = seconds
        for scope, key in (("site", ("", "", site)), ("city", ("", "", ""))):
            out.setdefault((scope, key), Seconds()).add(seconds)
    return out


def readings(period: str, figures: Mapping[tuple[str, Key], Seconds], time_ns: int) -> list[Reading]:
    points = []
    for (scope, (gateway, device, site)), seconds in sorted(figures.items()):
        tags = {"period": period, "scope": scope, "gateway": gateway, "device": device, "site": site}
        points.append(
            Reading(schema.AVAILABILITY, {k: v for k, v in tags.items() if v}, seconds.fields(), time_ns)
        )
    return points


class Influx:
    """The few InfluxDB 1.x calls this needs (InfluxQL and /write); `authorization` is the header
    value for an InfluxDB with authentication (the bridge config's user and password)."""

    def __init__(self, url: str, database: str, authorization: str | None = None) -> None:
        self.url, self.database = url.rstrip("/"), database
        self.headers = {"Authorization": authorization} if authorization else {}

    def query(self, text: str) -> list[dict[str, Any]]:
        params = urllib.parse.urlencode({"db": self.database, "q": text, "epoch": "ns"})
        request = urllib.request.Request(f"{self.url}/query?{params}", headers=self.headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.load(response)
        series: list[dict[str, Any]] = []
        for result in body.get("results", []):
            if "error" in result:
                raise RuntimeError(f"{text}: {result['error']}")
            series.extend(result.get("series", []))
        return series

    def write(self, points: Iterable[Reading]) -> None:
        body = "\n".join(encode_many(points)).encode()
        if not body:  # a day nothing reported: nothing to store
            return
        params = urllib.parse.urlencode({"db": self.database, "precision": "ns"})
        request = urllib.request.Request(f"{self.url}/write?{params}", body, self.headers, method="POST")
        with urllib.request.urlopen(request, timeout=60):
            pass


def _ns(moment: datetime.datetime) -> int:
    return int(moment.timestamp()) * 10**9


def compute_day(influx: Influx, day: datetime.date, zone: datetime.tzinfo) -> list[Reading]:
    """The day's figures from its `device_status` points (and the hour before, for the first poll)."""
    start = datetime.datetime.combine(day, datetime.time(), zone)
    end = start + datetime.timedelta(days=1)
    query = (
        f'SELECT "up" FROM "{schema.DEVICE_STATUS}" WHERE time >= {_ns(start) - 3600 * 10**9} '
        f'AND time < {_ns(end)} GROUP BY "gateway", "device", "site"'
    )
    per_device: dict[Key, Seconds] = {}
    for series in influx.query(query):
        tags = series.get("tags", {})
        polls = [(row[0] / 1e9, row[1] is True) for row in series["values"] if row[1] is not None]
        key = (tags.get("gateway", ""), tags.get("device", ""), tags.get("site", ""))
        per_device[key] = device_seconds(polls, start.timestamp(), end.timestamp())
    return readings("day", rollup(per_device), _ns(start))


def compute_month(influx: Influx, day: datetime.date, zone: datetime.tzinfo) -> list[Reading]:
    """Month to date: the sum of the month's day figures stored so far."""
    start = datetime.datetime.combine(day.replace(day=1), datetime.time(), zone)
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    query = (
        'SELECT sum("up_s") AS up_s, sum("down_s") AS down_s, sum("unknown_s") AS unknown_s '
        f'FROM "{schema.AVAILABILITY}" WHERE "period" = \'day\' '
        f"AND time >= {_ns(start)} AND time < {_ns(end)} "
        'GROUP BY "scope", "gateway", "device", "site"'
    )
    figures: dict[tuple[str, Key], Seconds] = {}
    for series in influx.query(query):
        tags = series.get("tags", {})
        _, up_s, down_s, unknown_s = series["values"][0]
        key = (tags.get("gateway", ""), tags.get("device", ""), tags.get("site", ""))
        # InfluxDB's JSON gives a whole sum as an integer: written back as one, it would clash with
        # the float fields of the days stored in the same shard, and the write would be refused.
        figures[(tags["scope"], key)] = Seconds(float(up_s), float(down_s), float(unknown_s))
    return readings("month", figures, _ns(start))


def last_stored_day(influx: Influx, zone: datetime.tzinfo) -> datetime.date | None:
    """The latest day whose city figure is stored (day points are stamped at the day's start)."""
    series = influx.query(
        f'SELECT last("up_s") FROM "{schema.AVAILABILITY}" WHERE "period" = \'day\' AND "scope" = \'city\''
    )
    if not series:
        return None
    return datetime.datetime.fromtimestamp(series[0]["values"][0][0] / 1e9, zone).date()


def days_due(last: datetime.date | None, today: datetime.date) -> list[datetime.date]:
    """The days a run on `today` computes: from the last one stored through yesterday, at most
    MAX_CATCH_UP_DAYS (the latest ones); yesterday alone when nothing is stored yet."""
    yesterday = today - datetime.timedelta(days=1)
    first = min(last or yesterday, yesterday)
    first = max(first, yesterday - datetime.timedelta(days=MAX_CATCH_UP_DAYS - 1))
    return [first + datetime.timedelta(days=n) for n in range((yesterday - first).days + 1)]


def store(influx: Influx, days: Sequence[datetime.date], zone: datetime.tzinfo) -> None:
    """Compute and store each day, then the month to date of every month they fall in."""
    for day in days:
        influx.write(compute_day(influx, day, zone))
    for month in sorted({day.replace(day=1) for day in days}):
        influx.write(compute_month(influx, month, zone))
