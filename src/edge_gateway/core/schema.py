"""The names of the InfluxDB schema both programs rely on, in one place (docs/schema.md).

The agent writes these measurements and tags, the bridge checks lines against the reserved ones, the
alerts and the NOC's boards query them: a name spelt here is spelt the same in every room. The fields
of each measurement are documented in docs/schema.md (the NOC checks its queries against
src/edge_gateway/noc/schema.py). `tests/dashboards/test_schema_names.py` checks that every measurement
the alert rules and the dashboards name is one of `MEASUREMENTS`.
"""

from __future__ import annotations

from typing import Final

# Measurements a gateway writes.
AP: Final = "ap"  # one access point (or controller), one point per poll
MANAGED_AP: Final = "managed_ap"  # one AP a wireless controller manages
AP_RADIO: Final = "ap_radio"
AP_IFACE: Final = "ap_iface"
AP_CLIENT: Final = "ap_client"  # opt-in: `snmp.clients`
DEVICE_STATUS: Final = "device_status"  # every polled device, every cycle, up or not
CAMERA: Final = "camera"
AIR_QUALITY: Final = "air_quality"
WEATHER: Final = "weather"
NOISE: Final = "noise"
TRAFFIC: Final = "traffic"
GPS: Final = "gps"
GATEWAY: Final = "gateway"  # the agent's own health
# Measurements the NOC side writes.
INGEST: Final = "ingest"  # the bridge's health, per gateway
ALERTS: Final = "alerts"  # the alert engine's state
AVAILABILITY: Final = "availability"  # the availability reports
MAINTENANCE: Final = "maintenance"  # `edge dashboards maintenance`: the active silences, for the boards

MEASUREMENTS: Final = frozenset(
    {
        AP, MANAGED_AP, AP_RADIO, AP_IFACE, AP_CLIENT, DEVICE_STATUS, CAMERA, AIR_QUALITY, WEATHER,
        NOISE, TRAFFIC, GPS, GATEWAY, INGEST, ALERTS, AVAILABILITY, MAINTENANCE,
    }
)  # fmt: skip
SENSOR_MEASUREMENTS: Final = frozenset({AIR_QUALITY, WEATHER, NOISE, TRAFFIC, GPS})  # intersection sensors

# Tags the dashboards and alerts group and filter by (`gateway` is set by the agent and checked
# against the topic by the bridge).
SCHEMA_TAGS: Final = frozenset(
    {
        "gateway", "device", "site", "vendor", "model", "radio", "ssid", "band", "ifname", "client",
        "kind", "bus", "sensor", "lane", "bridge", "alertname", "severity", "ap", "role", "primary",
    }
)  # fmt: skip

# Reserved names (docs/schema.md#reserved-names); the bridge enforces them (bridge/reserved.py).
BRIDGE_TAGS: Final = frozenset({"bridge", "alertname", "severity"})  # set only by the bridge's own writes
BRIDGE_MEASUREMENTS: Final = frozenset({INGEST, ALERTS})  # written only by the bridge
DATABASE_NAMES: Final = frozenset({"time"})  # InfluxDB's own column; `_...` is reserved by InfluxDB 2.x/3.x

# Priorities in the agent's buffer: status leaves before bulk counters, so that after an outage the
# NOC learns what is up and down before it gets the backlog of counters.
PRIORITY_STATUS: Final = 0
PRIORITY_BULK: Final = 1
STATUS_MEASUREMENTS: Final = frozenset({DEVICE_STATUS, GATEWAY})


def priority_of_measurement(measurement: str) -> int:
    return PRIORITY_STATUS if measurement in STATUS_MEASUREMENTS else PRIORITY_BULK
