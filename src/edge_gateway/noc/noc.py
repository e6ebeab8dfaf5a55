"""NOC overview: the wall screen. A city map with one marker per AP and per intersection coloured up,
down or not heard from (src/edge_gateway/noc/city_map.py), the totals, the intersections whose sensors
went stale and the alerts that are firing.

Up and down are judged on what devices said within `$up_window` (src/edge_gateway/noc/liveness.py), so a dead
gateway's APs turn grey instead of staying green. Throughput adds the interfaces the vendor profile
marks as the uplink (tag `role = uplink`), whatever the vendor calls them (MikroTik `WAN`, `ether1`).
"""

from __future__ import annotations

from edge_gateway.core import schema
from edge_gateway.noc.city_map import city_map
from edge_gateway.noc.intersections import PM25_BREAKPOINTS_UG_M3, ispu_steps
from edge_gateway.noc.liveness import SEEN_RECENTLY, UP_WINDOW
from edge_gateway.noc.model import Dashboard, Panel, Step, Target
from edge_gateway.noc.panels import UP_DOWN, only_rows, stat, table, timeseries
from edge_gateway.noc.rollups import OUTAGE_ANNOTATIONS, backhaul, in_maintenance, site_rollup

UID = "edge-noc"
# The AP's uplink carries what its clients send and receive; radios, LAN ports and bridges would count
# it again or not at all. Which interface that is, the vendor profile says
# (src/edge_gateway/agent/collectors/snmp/profiles).
UPLINK = "\"role\" = 'uplink'"
# "Now" figures read only this recent past, so a device that stopped answering stops counting.
RECENT = "time > now() - 3m"
SENSORS = "\"kind\" != 'snmp' AND \"kind\" != 'camera'"


def _aps(alias: str, outer_where: str) -> Target:
    """APs counted by their last status within the window; `outer_where` picks which. (An outer time
    condition cannot count those *not* heard from: InfluxDB pushes it into the inner query.)"""
    return Target(
        f'SELECT count("up") AS {alias} FROM (SELECT last("up") AS up FROM "{schema.DEVICE_STATUS}" '
        f'WHERE "kind" = \'snmp\' AND {SEEN_RECENTLY} GROUP BY "gateway", "device") WHERE {outer_where}'
    )


def _totals() -> list[Panel]:
    aps_up = _aps("aps_up", '"up" = true')
    aps_down = _aps("aps_down", '"up" = false')
    clients = Target(
        f'SELECT sum("clients") AS clients FROM (SELECT last("clients") AS clients FROM "{schema.AP}" '
        f'WHERE {RECENT} GROUP BY "gateway", "device")'
    )
    throughput = Target(
        'SELECT sum("bps") AS bps FROM (SELECT last("in_bps") + last("out_bps") AS bps '
        f'FROM "{schema.AP_IFACE}" '
        f'WHERE {UPLINK} AND {RECENT} GROUP BY "gateway", "device", "ifname")'
    )
    return [
        stat(
            "APs up",
            aps_up,
            width=2,
            steps=[Step("red"), Step("green", 1)],
            no_value="0",
            description="APs whose last poll within $up_window succeeded.",
        ),
        stat(
            "APs down",
            aps_down,
            width=2,
            steps=[Step("green"), Step("red", 1)],
            no_value="0",
            description="APs whose last poll within $up_window failed.",
        ),
        stat("Clients", clients, width=2, description="On the APs heard from in the last 3 minutes."),
        stat(
            "Throughput",
            throughput,
            unit="bps",
            width=2,
            description="In + out on the uplink interface (profile role `uplink`) of the APs heard from "
            "in the last 3 minutes; a UniFi AP (no IF-MIB) by its VAPs' traffic, all bridged to its uplink.",
        ),
    ]


def _throughput_over_time() -> Panel:
    query = (
        'SELECT sum("bps") AS bps FROM (SELECT mean("in_bps") + mean("out_bps") AS bps '
        f'FROM "{schema.AP_IFACE}" '
        f"WHERE {UPLINK} AND $timeFilter "
        'GROUP BY time($__interval), "gateway", "device", "ifname") '
        'WHERE $timeFilter GROUP BY time($__interval), "gateway" fill(none)'
    )
    panel = timeseries("Throughput per gateway", [Target(query, alias="$tag_gateway")], unit="bps", width=8)
    panel.height = 14  # fills the space beside the map, under the totals
    return panel


def _stale_sensors() -> Panel:
    query = (
        'SELECT last("up") AS up, last("stale") AS stale, last("error") AS error '
        f'FROM "{schema.DEVICE_STATUS}" '
        f'WHERE {SENSORS} AND $timeFilter GROUP BY "site", "device", "kind"'
    )
    return table(
        "Intersections with stale or failed sensors",
        Target(query, result_format="table"),
        width=12,
        transformations=[only_rows(("stale", True), ("up", False))],
        mappings=UP_DOWN,
        description="Last status of each sensor; only the sensors that are down or sent nothing.",
    )


def _active_alerts() -> Panel:
    query = (
        'SELECT last("firing") AS firing, last("unknown") AS unknown, last("summary") AS summary '
        f'FROM "{schema.ALERTS}" WHERE $timeFilter '
        'GROUP BY "alertname", "severity", "gateway", "site", "device"'
    )
    return table(
        "Active alerts",
        Target(query, result_format="table"),
        width=12,
        transformations=[only_rows(("firing", True))],
        description="Written by the alert engine: the last evaluation of each alert, firing ones only. "
        "`unknown` true: firing when last seen, but its gateway cannot be seen now.",
    )


def _worst_and_air() -> list[Panel]:
    """The APs that failed most polls in the time range, and each intersection's air as ISPU sees it."""
    worst = Target(
        'SELECT top("failed_polls", "device", 5) AS failed_polls FROM (SELECT count("up") AS failed_polls '
        f'FROM "{schema.DEVICE_STATUS}" WHERE "kind" = \'snmp\' AND "up" = false AND $timeFilter '
        'GROUP BY "gateway", "device")',
        result_format="table",
    )
    air = Target(
        f'SELECT mean("pm25") AS pm25 FROM "{schema.AIR_QUALITY}" WHERE time > now() - 24h GROUP BY "site"',
        alias="$tag_site",
    )
    return [
        table(
            "APs with the most failed polls (top 5)",
            worst,
            width=8,
            description="Failed polls in the time range: where to send a technician first.",
        ),
        stat(
            "Air quality: PM2.5, 24-hour mean",
            air,
            unit="conμgm3",
            width=16,
            height=8,
            steps=ispu_steps(PM25_BREAKPOINTS_UG_M3),
            description="Per intersection, coloured by the ISPU bands (PermenLHK P.14/2020), which are "
            "24-hour means whatever the time range shown.",
        ),
    ]


def _availability() -> list[Panel]:
    """What `edge dashboards availability` stored (src/edge_gateway/noc/availability.py): the last day
    computed
    per site, and the city's month to date. Day points are stamped at the day's start."""
    per_site = Target(
        'SELECT last("up_pct") AS up_pct, last("down_pct") AS down_pct, last("unknown_pct") AS unknown_pct '
        f'FROM "{schema.AVAILABILITY}" WHERE "period" = \'day\' AND "scope" = \'site\' AND time > now() - 2d '
        'GROUP BY "site"',
        result_format="table",
    )
    city = Target(
        f'SELECT last("up_pct") AS up_pct FROM "{schema.AVAILABILITY}" '
        "WHERE \"period\" = 'month' AND \"scope\" = 'city' AND time > now() - 32d"
    )
    return [
        table(
            "Availability per site (last day computed)",
            per_site,
            width=16,
            description="Up, down and unknown % of the day. Unknown: nothing arrived (gateway off), "
            "never counted as the devices' fault.",
        ),
        stat(
            "City availability, month to date",
            city,
            unit="percent",
            width=8,
            height=8,
            steps=[Step("red"), Step("orange", 95), Step("green", 99)],
            description="Up % of every device over the month's computed days; unknown time is not down.",
        ),
    ]


def build() -> Dashboard:
    return Dashboard(
        uid=UID,
        title="NOC overview",
        description="Wall screen: where things are, whether they are up, and what is firing.",
        panels=[
            city_map(),
            *_totals(),
            _throughput_over_time(),
            _stale_sensors(),
            _active_alerts(),
            *_availability(),
            *_worst_and_air(),
            site_rollup(),
            backhaul(),
            in_maintenance(),
        ],
        variables=[UP_WINDOW],
        tags=("edge", "noc"),
        refresh="1m",
        time_from="now-1h",
        annotations=OUTAGE_ANNOTATIONS,
    )
