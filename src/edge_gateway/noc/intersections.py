"""Intersections: traffic per lane, air quality against Indonesia's ISPU bands, noise against the legal
limits, the weather, and the CCTV cameras, for one intersection (chosen by gateway and site).

Band limits and their sources are in docs/dashboards.md; the numbers live in
src/edge_gateway/alerts/thresholds.py,
shared with the alert rules, so a panel turns yellow where PM25Unhealthy starts.
"""

from __future__ import annotations

from edge_gateway.alerts.thresholds import (
    ISPU_PM10_BAND_STARTS_UG_M3,
    ISPU_PM25_BAND_STARTS_UG_M3,
    THRESHOLDS,
)
from edge_gateway.core import schema
from edge_gateway.noc.model import Dashboard, Panel, Step, Target, Variable
from edge_gateway.noc.panels import UP_DOWN, stat, table, timeseries

UID = "edge-intersections"
SITE = '"gateway" =~ /^$gateway$/ AND "site" =~ /^$site$/'
WHERE = f"{SITE} AND $timeFilter"

VARIABLES = [
    Variable(
        "gateway",
        "Gateway",
        f'SHOW TAG VALUES FROM "{schema.DEVICE_STATUS}" WITH KEY = "gateway" WHERE "kind" != \'snmp\'',
    ),
    Variable(
        "site",
        "Intersection",
        f'SHOW TAG VALUES FROM "{schema.DEVICE_STATUS}" WITH KEY = "site" WHERE "kind" != \'snmp\' '
        'AND "gateway" =~ /^$gateway$/',
    ),
]

# ISPU colours: baik, sedang, tidak sehat, sangat tidak sehat, berbahaya (PermenLHK P.14/2020).
_ISPU_COLOURS = ("green", "blue", "yellow", "red", "black")
PM25_BREAKPOINTS_UG_M3 = ISPU_PM25_BAND_STARTS_UG_M3
PM10_BREAKPOINTS_UG_M3 = ISPU_PM10_BAND_STARTS_UG_M3
# KepMenLH 48/1996 noise limits, dB(A): housing 55, trade and services 70.
NOISE_HOUSING_DBA = THRESHOLDS["noise_housing_dba"]
NOISE_TRADE_DBA = THRESHOLDS["noise_trade_dba"]


def ispu_steps(breakpoints: tuple[float, ...]) -> list[Step]:
    """Colour steps for the ISPU bands: each breakpoint starts the next band."""
    return [
        Step(_ISPU_COLOURS[0]),
        *(Step(c, v) for c, v in zip(_ISPU_COLOURS[1:], breakpoints, strict=True)),
    ]


NOISE_STEPS = [Step("green"), Step("orange", NOISE_HOUSING_DBA), Step("red", NOISE_TRADE_DBA)]


# Where a radar and a loop detector see the same lanes, the one declared `primary = false` in the
# serial config tags its readings `primary=false`: each lane is counted once, by the primary sensor.
# (A reading without the tag is primary: InfluxQL compares a missing tag as the empty string.)
PRIMARY = "\"primary\" != 'false'"


def _per_lane(how: str, field: str) -> Target:
    query = (
        f'SELECT {how}("{field}") AS {field} FROM "{schema.TRAFFIC}" WHERE {WHERE} AND {PRIMARY} '
        'GROUP BY time($__interval), "lane" fill(none)'
    )
    return Target(query, alias="lane $tag_lane")


def _series(measurement: str, field: str) -> Target:
    query = (
        f'SELECT mean("{field}") AS {field} FROM "{measurement}" WHERE {WHERE} '
        'GROUP BY time($__interval), "sensor" fill(none)'
    )
    return Target(query, alias="$tag_sensor")


def _daily_mean(field: str) -> Target:
    """ISPU bands are defined on 24-hour means, whatever the time range shown."""
    return Target(
        f'SELECT mean("{field}") AS {field} FROM "{schema.AIR_QUALITY}" WHERE {SITE} AND time > now() - 24h'
    )


def _traffic() -> list[Panel]:
    return [
        timeseries("Vehicle volume per lane", [_per_lane("sum", "volume")], unit="short", width=8, bars=True),
        timeseries("Speed per lane", [_per_lane("mean", "speed_kmh")], unit="velocitykmh", width=8),
        timeseries("Occupancy per lane", [_per_lane("mean", "occupancy_pct")], unit="percent", width=8),
    ]


def _air() -> list[Panel]:
    pm25 = ispu_steps(PM25_BREAKPOINTS_UG_M3)
    pm10 = ispu_steps(PM10_BREAKPOINTS_UG_M3)
    unit = "conμgm3"
    return [
        stat("PM2.5, 24-h mean", _daily_mean("pm25"), unit=unit, width=4, steps=pm25, height=8),
        timeseries(
            "PM2.5 against the ISPU bands",
            [_series(schema.AIR_QUALITY, "pm25")],
            unit=unit,
            width=8,
            steps=pm25,
        ),
        stat("PM10, 24-h mean", _daily_mean("pm10"), unit=unit, width=4, steps=pm10, height=8),
        timeseries(
            "PM10 against the ISPU bands",
            [_series(schema.AIR_QUALITY, "pm10")],
            unit=unit,
            width=8,
            steps=pm10,
        ),
    ]


def _environment() -> list[Panel]:
    return [
        timeseries(
            "Noise (LAeq) against the legal limits",
            [_series(schema.NOISE, "laeq_db")],
            unit="dB",
            width=8,
            steps=NOISE_STEPS,
            description=f"Orange from {NOISE_HOUSING_DBA:g} dB(A) (housing), "
            f"red from {NOISE_TRADE_DBA:g} dB(A) (trade and services).",
        ),
        timeseries("Temperature", [_series(schema.WEATHER, "temp_c")], unit="celsius", width=8),
        timeseries("Humidity", [_series(schema.WEATHER, "rh_pct")], unit="humidity", width=8),
    ]


def _cameras() -> list[Panel]:
    """Each camera's last check (docs/cameras.md); frozen apart, as a count, because a table's value
    mappings colour every column alike and a frozen `true` is bad where an `up` one is good."""
    last = (
        'SELECT last("rtsp_ok") AS up, last("fps") AS fps, last("clock_drift_s") AS clock_drift_s, '
        f'last("latency_ms") AS latency_ms FROM "{schema.CAMERA}" WHERE {WHERE} GROUP BY "device"'
    )
    frozen = (
        f'SELECT count("frozen") AS frozen FROM (SELECT last("frozen") AS frozen FROM "{schema.CAMERA}" '
        f'WHERE {WHERE} GROUP BY "device") WHERE "frozen" = true'
    )
    return [
        table(
            "Cameras: stream, fps, clock drift",
            Target(last, result_format="table"),
            width=16,
            mappings=UP_DOWN,
            description="Last check of each camera: up = the stream delivered frames; fps measured over "
            "the pull; clock_drift_s = camera clock minus the gateway's (CameraClockDrift beyond 2 s).",
        ),
        stat(
            "Cameras with a frozen picture",
            Target(frozen),
            unit="short",
            width=8,
            steps=[Step("green"), Step("red", 1)],
            height=8,
            no_value="0",
            description="Cameras whose last check found the picture unchanged for frozen_after_s "
            "(CameraFrozen): the stream answers, the picture does not move.",
        ),
    ]


def build() -> Dashboard:
    return Dashboard(
        uid=UID,
        title="Intersections",
        description="Traffic per lane, air quality (ISPU bands), noise (legal limits), weather and cameras.",
        panels=[*_traffic(), *_air(), *_environment(), *_cameras()],
        variables=VARIABLES,
        tags=("edge", "intersection"),
    )
