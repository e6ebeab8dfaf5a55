"""Access point: one AP (chosen by gateway and device) in depth, for an operator chasing a complaint.

Radio health (clients, signal and SNR of the clients, noise floor, CCQ, channel utilisation),
throughput per interface, how full the backhaul is, the box itself (CPU, memory, temperature) and its
uptime and reboots.
"""

from __future__ import annotations

from edge_gateway.alerts.thresholds import THRESHOLDS
from edge_gateway.core import schema
from edge_gateway.noc.liveness import SEEN_RECENTLY, UP_WINDOW
from edge_gateway.noc.model import Dashboard, Panel, Step, Target, Variable
from edge_gateway.noc.panels import UP_DOWN, histogram, stat, timeseries
from edge_gateway.noc.rollups import UPLINK, UTILISATION_STEPS, outage_annotations, utilisation

UID = "edge-access-point"
AP = '"gateway" =~ /^$gateway$/ AND "device" =~ /^$device$/ AND $timeFilter'

VARIABLES = [
    Variable("gateway", "Gateway", f'SHOW TAG VALUES FROM "{schema.AP}" WITH KEY = "gateway"'),
    Variable(
        "device",
        "Access point",
        f'SHOW TAG VALUES FROM "{schema.AP}" WITH KEY = "device" WHERE "gateway" =~ /^$gateway$/',
    ),
]


def _per_radio(field: str, how: str = "mean") -> Target:
    query = (
        f'SELECT {how}("{field}") AS {field} FROM "{schema.AP_RADIO}" WHERE {AP} '
        'GROUP BY time($__interval), "radio" fill(none)'
    )
    return Target(query, alias="$tag_radio")


def _ap_field(field: str) -> Target:
    return Target(
        f'SELECT mean("{field}") AS {field} FROM "{schema.AP}" WHERE {AP} '
        "GROUP BY time($__interval) fill(none)",
        alias=field,
    )


def _status() -> list[Panel]:
    up = Target(f'SELECT last("up") AS up FROM "{schema.DEVICE_STATUS}" WHERE {AP} AND {SEEN_RECENTLY}')
    uptime = Target(f'SELECT last("uptime_s") AS uptime FROM "{schema.AP}" WHERE {AP}')
    reboots = Target(
        f'SELECT count("change") AS reboots FROM (SELECT difference("uptime_s") AS change FROM "{schema.AP}" '
        f'WHERE {AP}) WHERE "change" < 0 AND $timeFilter'
    )
    clients = Target(f'SELECT last("clients") AS clients FROM "{schema.AP}" WHERE {AP}')
    hotspot = Target(f'SELECT last("hotspot_users") AS hotspot_users FROM "{schema.AP}" WHERE {AP}')
    latency = Target(f'SELECT mean("latency_ms") AS latency FROM "{schema.DEVICE_STATUS}" WHERE {AP}')
    return [
        stat(
            "Status",
            up,
            mappings=UP_DOWN,
            no_value="not heard from",
            description="As the AP's last poll within $up_window said; nothing within it is unknown.",
        ),
        stat("Uptime", uptime, unit="s"),
        stat(
            "Reboots",
            reboots,
            steps=[Step("green"), Step("orange", 1)],
            description="Times the uptime went back in the time range.",
            no_value="0",
        ),
        stat("Clients", clients),
        stat("Hotspot users", hotspot),
        stat("Poll latency", latency, unit="ms", steps=[Step("green"), Step("orange", 2000)]),
    ]


def _radio_panels() -> list[Panel]:
    signal = Target(f'SELECT "signal_dbm" FROM "{schema.AP_CLIENT}" WHERE {AP}')
    snr = Target(f'SELECT "snr_db" FROM "{schema.AP_CLIENT}" WHERE {AP}')
    return [
        timeseries("Clients per radio", [_per_radio("clients")], width=12),
        timeseries("Noise floor", [_per_radio("noise_dbm")], unit="dBm", width=12),
        histogram("Client signal", signal, unit="dBm", bucket_size=3),
        histogram("Client SNR", snr, unit="dB", bucket_size=3),
        timeseries(
            "CCQ",
            [_per_radio("ccq_pct")],
            unit="percent",
            steps=[Step("red"), Step("orange", 50), Step("green", 75)],
            description="Connection quality of the stations on each radio. Undefined without a station "
            "(and not measured on a MikroTik virtual AP), so it is absent then, not 0: at night this "
            "panel is empty while Clients per radio shows 0.",
            no_value="No station",
        ),
        timeseries(
            "Channel utilisation",
            [_per_radio("util_pct")],
            unit="percent",
            steps=[Step("green"), Step("orange", 50), Step("red", 80)],
        ),
    ]


def _throughput() -> Panel:
    query = (
        f'SELECT mean("in_bps") AS "in", mean("out_bps") AS "out" FROM "{schema.AP_IFACE}" WHERE '
        f'{AP} GROUP BY time($__interval), "ifname" fill(none)'
    )
    return timeseries(
        "Throughput per interface", [Target(query, alias="$tag_ifname $col")], unit="bps", width=24
    )


def _backhaul() -> Panel:
    query = (
        f'SELECT {utilisation("mean")} FROM "{schema.AP_IFACE}" WHERE {AP} AND {UPLINK} '
        "GROUP BY time($__interval) fill(none)"
    )
    return timeseries(
        "Backhaul utilisation",
        [Target(query, alias="$col")],
        unit="percent",
        width=24,
        steps=UTILISATION_STEPS,
        description="The uplink interface's (profile role `uplink`) rate over its speed, in and out apart.",
    )


def _box_panels() -> list[Panel]:
    return [
        timeseries(
            "CPU",
            [_ap_field("cpu_pct")],
            unit="percent",
            width=8,
            steps=[Step("green"), Step("red", THRESHOLDS["ap_cpu_high_pct"])],
        ),
        timeseries(
            "Memory used",
            [_ap_field("mem_used_pct")],
            unit="percent",
            width=8,
            steps=[Step("green"), Step("red", THRESHOLDS["ap_mem_high_pct"])],
        ),
        timeseries(
            "Temperature",
            [_ap_field("temp_c")],
            unit="celsius",
            width=8,
            steps=[Step("green"), Step("red", THRESHOLDS["ap_temp_high_c"])],  # as HighTemperature
        ),
        timeseries(
            "Uptime", [_ap_field("uptime_s")], unit="s", width=24, description="Drops to 0 are reboots."
        ),
    ]


def build() -> Dashboard:
    return Dashboard(
        uid=UID,
        title="Access point",
        description="One access point in depth: radios, clients, throughput, the box and its reboots.",
        panels=[*_status(), *_radio_panels(), _throughput(), _backhaul(), *_box_panels()],
        variables=[*VARIABLES, UP_WINDOW],
        tags=("edge", "ap"),
        annotations=outage_annotations('AND "gateway" =~ /^$gateway$/ AND "device" =~ /^$device$/ '),
    )
