"""The NOC overview's city map: one marker per access point and one per intersection.

An intersection is what its sensors and cameras share: the gateway and the `site` of their config
(`[[serial.buses]]` and `[[camera.devices]]`), placed at the mean of their configured `lat`/`lon`.
Its marker carries its worst state, so a wall screen shows one red square where one of six sensors is
down instead of six squares on top of each other:
- **down** (red): a device of it said down within `$up_window`;
- **up** (green): the devices heard within `$up_window` all said up;
- **not heard from** (grey): none of its devices reported within `$up_window` although some did in
  the time range: its gateway is offline or draining a backlog, so we cannot tell.
A device the gateway still runs reports every cycle (a dead one as down), so one silent device
beside heard ones is one that left the config: it does not turn its intersection grey.

InfluxQL has no CASE, so the state is a rank chosen by filters and kept by `max()`: every device seen
in the time range is 1, one last heard up within the window 2, one last heard down 3. The ranks come
from three subqueries read as one source (`FROM (a), (b), (c)`), each giving one row per device, and
`max()` per intersection (or per AP) keeps the worst. Each device is counted once whatever its poll
interval, since every subquery first takes each device's last status.
"""

from __future__ import annotations

from edge_gateway.core import schema
from edge_gateway.noc.liveness import SEEN_RECENTLY
from edge_gateway.noc.model import JSON, Panel, Step, Target, ValueText

UNKNOWN, UP, DOWN = 1, 2, 3
STATES = [ValueText(str(UNKNOWN), "not heard from", "text"), ValueText(str(UP), "up", "green")]
STATES.append(ValueText(str(DOWN), "down", "red"))
APS = "\"kind\" = 'snmp'"
INTERSECTION_DEVICES = "\"kind\" != 'snmp'"  # sensors of every driver, and cameras
PER_DEVICE = 'GROUP BY "gateway", "site", "device"'
# Fit the view to the markers (at most this zoom); the centre is only used before data arrives.
MAP_VIEW = {"id": "fit", "lat": -6.7063, "lon": 108.5570, "zoom": 16, "allLayers": True, "lastOnly": False}


def _ranks(devices: str) -> str:
    """One row per device of `devices` seen in the time range: its rank (`state`) and position."""
    heard = (
        f'SELECT last("up") AS up FROM "{schema.DEVICE_STATUS}" WHERE {devices} AND {SEEN_RECENTLY} '
        f"{PER_DEVICE}"
    )
    seen = (
        f'SELECT last("up") AS up, last("lat") AS lat, last("lon") AS lon FROM "{schema.DEVICE_STATUS}" '
        f"WHERE {devices} AND $timeFilter {PER_DEVICE}"
    )
    return ", ".join(
        (
            f'(SELECT count("up") * {DOWN} AS state FROM ({heard}) WHERE "up" = false {PER_DEVICE})',
            f'(SELECT count("up") * {UP} AS state FROM ({heard}) WHERE "up" = true {PER_DEVICE})',
            f'(SELECT count("up") * {UNKNOWN} AS state, last("lat") AS lat, last("lon") AS lon FROM ({seen}) '
            f"{PER_DEVICE})",
        )
    )


AP_MARKERS = (
    f'SELECT max("state") AS state, last("lat") AS lat, last("lon") AS lon FROM {_ranks(APS)} {PER_DEVICE}'
)
INTERSECTION_MARKERS = (
    'SELECT max("state") AS state, mean("lat") AS lat, mean("lon") AS lon '
    f'FROM {_ranks(INTERSECTION_DEVICES)} GROUP BY "gateway", "site"'
)


def _layer(name: str, ref_id: str, symbol: str) -> JSON:
    return {
        "type": "markers",
        "name": name,
        "config": {
            "showLegend": True,
            "style": {
                "size": {"fixed": 8},
                "color": {"field": "state", "fixed": "text"},
                "symbol": {"mode": "fixed", "fixed": f"img/icons/marker/{symbol}.svg"},
                "opacity": 0.9,
            },
        },
        "location": {"mode": "coords", "latitude": "lat", "longitude": "lon"},
        "filterData": {"id": "byRefId", "options": ref_id},
        "tooltip": True,
    }


def city_map() -> Panel:
    """Geomap with two layers, each one row (one marker) per AP or intersection, coloured by `state`."""
    options: JSON = {
        "view": MAP_VIEW,
        "controls": {"showZoom": True, "mouseWheelZoom": True, "showAttribution": True},
        "basemap": {"type": "default", "name": "Basemap"},
        "layers": [_layer("Access points", "A", "circle"), _layer("Intersections", "B", "square")],
        "tooltip": {"mode": "details"},
    }
    return Panel(
        "geomap",
        "City map: access points and intersections",
        [
            Target(AP_MARKERS, "A", result_format="table"),
            Target(INTERSECTION_MARKERS, "B", result_format="table"),
        ],
        width=16,
        height=18,
        steps=[Step("text"), Step("green", UP), Step("red", DOWN)],
        mappings=STATES,
        color_mode="thresholds",
        options=options,
        description="One circle per access point, one square per intersection (its sensors and cameras). "
        "Red: down within $up_window (for an intersection: any of its devices); green: up; grey: seen "
        "in the time range but nothing heard within $up_window (its gateway is offline or catching up): "
        "unknown.",
    )
