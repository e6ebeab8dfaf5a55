"""Availability per device, site and city: the figures against what the test made each device do."""

from __future__ import annotations

import datetime
import urllib.parse
import urllib.request
import zoneinfo
from pathlib import Path

import pytest

from edge_gateway.cli.main import main
from edge_gateway.core.lineproto import encode_many
from edge_gateway.core.model import Reading
from edge_gateway.noc.availability import (
    MAX_CATCH_UP_DAYS,
    Influx,
    days_due,
    device_seconds,
    last_stored_day,
    store,
)
from edge_gateway_dev import servers

WIB = zoneinfo.ZoneInfo("Asia/Jakarta")
DAY = datetime.date(2026, 11, 30)
START_S = datetime.datetime.combine(DAY, datetime.time(), WIB).timestamp()
DAY_S = 86_400.0
STEP_S = 60.0
HOUR_S = 3600.0


def polls(
    up: bool = True, down: tuple[float, float] = (0, 0), off: tuple[float, float] = (0, 0)
) -> list[tuple[float, bool]]:
    """A poll every minute of the day: down within `down` (hours), none at all within `off`."""
    out = []
    for i in range(int(DAY_S / STEP_S)):
        hour = i * STEP_S / HOUR_S
        if off[0] <= hour < off[1]:
            continue
        out.append((START_S + i * STEP_S, not down[0] <= hour < down[1] and up))
    return out


def test_a_poll_stands_for_two_intervals_at_most() -> None:
    end_s = START_S + DAY_S
    assert device_seconds(polls(), START_S, end_s).up_s == DAY_S
    down = device_seconds(polls(down=(6, 12)), START_S, end_s)
    assert (down.up_s, down.down_s, down.unknown_s) == (DAY_S - 6 * HOUR_S, 6 * HOUR_S, 0)
    # Gateway off from 06:00 to 12:00: the last poll before covers two minutes, the rest is unknown.
    off = device_seconds(polls(off=(6, 12)), START_S, end_s)
    assert (off.up_s, off.down_s, off.unknown_s) == (DAY_S - 6 * HOUR_S + STEP_S, 0, 6 * HOUR_S - STEP_S)
    assert device_seconds([], START_S, end_s).unknown_s == DAY_S


@pytest.mark.integration
def test_the_day_and_month_are_stored_per_device_site_and_city(tmp_path: Path) -> None:
    fleet = {
        ("ap-1", "Kejaksan"): polls(),
        ("ap-2", "Kejaksan"): polls(down=(6, 12)),
        ("ap-3", "Kanoman"): polls(off=(0, 12)),
    }
    lines = encode_many(
        Reading(
            "device_status",
            {"gateway": "gw", "device": d, "site": s, "kind": "snmp"},
            {"up": up},
            int(t * 1e9),
        )
        for (d, s), points in fleet.items()
        for t, up in points
    )
    with servers.influxdb(tmp_path / "influx") as influx:
        urllib.request.urlopen(
            f"{influx.url}/query?" + urllib.parse.urlencode({"q": "CREATE DATABASE edge"}), data=b""
        )
        request = urllib.request.Request(
            f"{influx.url}/write?db=edge&precision=ns", "\n".join(lines).encode(), method="POST"
        )
        urllib.request.urlopen(request, timeout=30)
        command = ["dashboards", "availability", "--influx-url", influx.url, "--day", DAY.isoformat()]
        assert main([*command, "--tz", "Asia/Jakarta"]) == 0
        stored = Influx(influx.url, "edge").query(
            'SELECT "up_pct", "down_pct", "unknown_pct" FROM "availability" '
            'GROUP BY "period", "scope", "device", "site"'
        )
    figures = {
        (s["tags"]["period"], s["tags"]["scope"], s["tags"]["device"] or s["tags"]["site"]): tuple(
            s["values"][0][1:]
        )
        for s in stored
    }
    off_unknown = 50.0  # off from midnight: no earlier poll to stand for any of it
    expected_day = {
        ("device", "ap-1"): (100.0, 0.0, 0.0),
        ("device", "ap-2"): (75.0, 25.0, 0.0),
        ("device", "ap-3"): (round(100 - off_unknown, 3), 0.0, round(off_unknown, 3)),
        ("site", "Kejaksan"): (87.5, 12.5, 0.0),
        ("site", "Kanoman"): (round(100 - off_unknown, 3), 0.0, round(off_unknown, 3)),
    }
    for (scope, name), values in expected_day.items():
        assert figures[("day", scope, name)] == pytest.approx(values, abs=1e-3), (scope, name)
        assert figures[("month", scope, name)] == pytest.approx(values, abs=1e-3), (scope, name)
    city = [v for (period, scope, _), v in figures.items() if period == "day" and scope == "city"]
    assert city == [pytest.approx(((100 + 75 + 100 - off_unknown) / 3, 25 / 3, off_unknown / 3), abs=1e-3)]
    stored_day_start = [s["values"][0][0] for s in stored if s["tags"]["period"] == "day"]
    assert set(stored_day_start) == {int(START_S) * 10**9}  # the city's midnight, WIB


def test_a_run_computes_from_the_last_stored_day_through_yesterday() -> None:
    """The timer's run on DAY + 3 after DAY was stored: DAY again (a late backlog), then the missed
    days; nothing stored yet: yesterday alone; a long gap: the latest MAX_CATCH_UP_DAYS days."""
    today = DAY + datetime.timedelta(days=3)
    assert days_due(DAY, today) == [DAY + datetime.timedelta(days=n) for n in range(3)]
    assert days_due(None, today) == [today - datetime.timedelta(days=1)]
    assert days_due(today, today) == [today - datetime.timedelta(days=1)]  # `--day` of today, by hand
    long_gap = days_due(DAY - datetime.timedelta(days=400), today)
    assert (len(long_gap), long_gap[-1]) == (MAX_CATCH_UP_DAYS, today - datetime.timedelta(days=1))


def _day_points(influx: Influx) -> dict[tuple[str, str], list[tuple[int, float]]]:
    """Every stored point of each period and device: (time, up_s)."""
    series = influx.query(
        'SELECT "up_s" FROM "availability" WHERE "scope" = \'device\' GROUP BY "period", "device"'
    )
    return {
        (s["tags"]["period"], s["tags"]["device"]): [(row[0], row[1]) for row in s["values"]] for s in series
    }


@pytest.mark.integration
def test_missed_days_are_caught_up_and_a_day_computed_again_is_overwritten(tmp_path: Path) -> None:
    """Three days of polls (ap-2 down six hours on the third); the first stored by hand, then the run
    of the fourth catches up the two missed days. Running it again, or `--day` again, changes nothing: one
    point per device and day, and the month is the sum of the three days, not more."""
    days = [datetime.date(2026, 11, 2) + datetime.timedelta(days=n) for n in range(3)]
    lines = []
    for index, day in enumerate(days):
        shift_s = (day - DAY).days * DAY_S
        for device, points in (("ap-1", polls()), ("ap-2", polls(down=(6, 12) if index == 2 else (0, 0)))):
            tags = {"gateway": "gw", "device": device, "site": "Kejaksan", "kind": "snmp"}
            lines += encode_many(
                Reading("device_status", tags, {"up": up}, int((t + shift_s) * 1e9)) for t, up in points
            )
    with servers.influxdb(tmp_path / "influx") as server:
        influx = Influx(server.url, "edge")
        urllib.request.urlopen(
            f"{server.url}/query?" + urllib.parse.urlencode({"q": "CREATE DATABASE edge"}), data=b""
        )
        request = urllib.request.Request(
            f"{server.url}/write?db=edge&precision=ns", "\n".join(lines).encode(), method="POST"
        )
        urllib.request.urlopen(request, timeout=30)
        command = ["dashboards", "availability", "--influx-url", server.url, "--day", days[0].isoformat()]
        assert main(command) == 0
        assert last_stored_day(influx, WIB) == days[0]
        today = days[-1] + datetime.timedelta(days=1)
        due = days_due(last_stored_day(influx, WIB), today)
        assert due == days
        store(influx, due, WIB)
        first = _day_points(influx)
        store(influx, days_due(last_stored_day(influx, WIB), today), WIB)
        assert main(command) == 0
        again = _day_points(influx)
    day_starts = [int(datetime.datetime.combine(d, datetime.time(), WIB).timestamp()) * 10**9 for d in days]
    assert [t for t, _ in first[("day", "ap-2")]] == day_starts
    assert [up_s for _, up_s in first[("day", "ap-2")]] == [DAY_S, DAY_S, DAY_S - 6 * HOUR_S]
    assert first[("month", "ap-2")] == [(day_starts[0] - int(DAY_S) * 10**9, 3 * DAY_S - 6 * HOUR_S)]
    assert again == first
