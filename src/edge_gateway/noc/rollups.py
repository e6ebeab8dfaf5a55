"""The overview's rollups: what each site has (devices up and down, clients, uplink traffic), how full
each AP's backhaul is, what is in maintenance, and the outages marked on every time axis.

Backhaul utilisation is the uplink interface's rate over its speed (`speed_mbps`, from ifHighSpeed),
per direction: a full-duplex link is full when either direction is, so the two are never added.
Outage annotations come from the alert engine's `alerts` measurement: it writes every firing alert at
each evaluation and a resolved one once, so a firing alert is marked at its first point in the time
range and again where it resolved.
"""

from __future__ import annotations

from edge_gateway.core import schema
from edge_gateway.noc.liveness import SEEN_RECENTLY
from edge_gateway.noc.maintenance import FRESH
from edge_gateway.noc.model import Annotation, Panel, Step, Target
from edge_gateway.noc.panels import table

# The profile marks the AP's uplink (tag `role = uplink`), see src/edge_gateway/noc/noc.py.
UPLINK = "\"role\" = 'uplink'"
RECENT = "time > now() - 3m"
# Rate in bit/s over speed in Mbit/s, as a percentage: bps / (mbps * 1e6) * 100.
BPS_PER_MBPS_PCT = 10_000
UTILISATION_STEPS = [Step("green"), Step("orange", 70), Step("red", 90)]


def utilisation(how: str) -> str:
    """In and out utilisation % of the uplink, `how` being the aggregate (`last`, `mean`)."""
    return ", ".join(
        f'{how}("{d}_bps") / {how}("speed_mbps") / {BPS_PER_MBPS_PCT} AS {d}_pct' for d in ("in", "out")
    )


def _devices_per_site(alias: str, up: str) -> Target:
    return Target(
        f'SELECT count("up") AS {alias} FROM (SELECT last("up") AS up FROM "{schema.DEVICE_STATUS}" '
        f'WHERE {SEEN_RECENTLY} GROUP BY "gateway", "device", "site") WHERE "up" = {up} GROUP BY "site"',
        alias[0].upper(),
        result_format="table",
    )


def site_rollup() -> Panel:
    """One row per site: the four queries are merged on the `site` column."""
    clients = Target(
        f'SELECT sum("clients") AS clients FROM (SELECT last("clients") AS clients FROM "{schema.AP}" '
        f'WHERE {RECENT} GROUP BY "gateway", "device", "site") GROUP BY "site"',
        "C",
        result_format="table",
    )
    uplink = Target(
        'SELECT sum("bps") / 1000000 AS uplink_mbps FROM (SELECT last("in_bps") + last("out_bps") AS bps '
        f'FROM "{schema.AP_IFACE}" WHERE {UPLINK} AND {RECENT} '
        'GROUP BY "gateway", "device", "ifname", "site") '
        'GROUP BY "site"',
        "B",
        result_format="table",
    )
    panel = table(
        "Per site: devices up and down, clients, uplink traffic",
        _devices_per_site("up", "true"),
        width=12,
        description="Devices (APs, sensors, cameras) whose last status within $up_window was up or down; "
        "clients and uplink Mbit/s (in + out) of the site's APs heard from in the last 3 minutes.",
    )
    panel.targets = [*panel.targets, _devices_per_site("down", "false"), clients, uplink]
    panel.transformations = [{"id": "merge", "options": {}}]
    return panel


def backhaul() -> Panel:
    query = (
        # Only uplinks of known speed: a UniFi AP's uplink rows are its VAPs, which have none.
        f'SELECT {utilisation("last")} FROM "{schema.AP_IFACE}" '
        f'WHERE {UPLINK} AND "speed_mbps" > 0 AND {RECENT} '
        'GROUP BY "gateway", "site", "device"'
    )
    panel = table(
        "Backhaul utilisation per AP",
        Target(query, result_format="table"),
        width=12,
        description="Uplink rate over the interface's speed, in and out apart (full duplex: the link is "
        "full when either is); the APs heard from in the last 3 minutes. Sort by a column to see the "
        "busiest. APs whose uplink speed is not known (UniFi: its VAPs' traffic) are absent.",
    )
    panel.unit = "percent"
    panel.steps = UTILISATION_STEPS
    panel.color_mode = "thresholds"
    return panel


def in_maintenance() -> Panel:
    query = (
        f'SELECT last("until") AS until, last("reason") AS reason FROM "{schema.MAINTENANCE}" '
        f'WHERE {FRESH} GROUP BY "scope", "device", "site"'
    )
    return table(
        "In maintenance now",
        Target(query, result_format="table"),
        width=12,
        description="Devices and sites under `edge maintenance` (an Alertmanager silence: their alerts page "
        "nobody), as `edge dashboards maintenance` copied them within the last 2 minutes.",
    )


def outage_annotations(where: str = "") -> tuple[Annotation, ...]:
    """Red where an alert first fired in the time range, green where it resolved; `where` narrows them
    to one board's device (`AND "device" =~ /^$device$/`)."""
    return (
        Annotation(
            "Alerts firing",
            f'SELECT first("summary") AS text FROM "{schema.ALERTS}" '
            f'WHERE "firing" = true {where}AND $timeFilter '
            'GROUP BY "alertname", "gateway", "site", "device"',
            "red",
        ),
        Annotation(
            "Alerts resolved",
            f'SELECT "summary" AS text FROM "{schema.ALERTS}" WHERE "firing" = false {where}AND $timeFilter',
            "green",
        ),
    )


OUTAGE_ANNOTATIONS = outage_annotations()
