"""The measurements, tags and fields the dashboards may query: the schema contract, docs/schema.md,
plus two fields the dashboards rely on from elsewhere.

A test checks every panel query against this list, so a renamed field breaks the build here instead
of leaving a silently empty panel on the NOC wall. Assumptions beyond that contract, stated once:
- `device_status` carries `lat`/`lon` (floats, from each device's config) for the geomap, and the
  serial collector's `stale`/`stuck` flags;
- `alerts` is written by the alert engine (src/edge_gateway/alerts/engine.py): tags `alertname, severity,
  gateway` and those of the series it fired on (`device, sensor, radio, ifname, lane, site`), fields
  `firing` (bool) and `summary`; a point for every active alert each evaluation, and `firing=false`
  once when it resolves; `unknown` (bool) is true while its gateway cannot be seen;
- `ap_iface` carries the tag `role` (`uplink`) where the vendor profile names the AP's uplink.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_gateway.core import schema


@dataclass(frozen=True)
class Measurement:
    """One measurement's tag keys and field keys."""

    tags: frozenset[str]
    fields: frozenset[str]


def _m(tags: str, fields: str) -> Measurement:
    return Measurement(frozenset(tags.split()), frozenset(fields.split()))


_AP_TAGS = "gateway device site vendor model"
_SENSOR_TAGS = "gateway site sensor bus"

SCHEMA: dict[str, Measurement] = {
    schema.AP: _m(_AP_TAGS, "up uptime_s cpu_pct mem_used_pct temp_c clients hotspot_users dhcp_leases"),
    schema.AP_RADIO: _m(
        _AP_TAGS + " radio ssid",
        "clients freq_mhz noise_dbm ccq_pct tx_rate_bps rx_rate_bps util_pct",
    ),
    schema.AP_IFACE: _m(
        _AP_TAGS + " ifname role",
        "in_bps out_bps in_octets out_octets oper_up in_errors out_errors speed_mbps",
    ),
    schema.AP_CLIENT: _m(_AP_TAGS + " radio client", "signal_dbm snr_db tx_rate_bps rx_rate_bps uptime_s"),
    schema.DEVICE_STATUS: _m(
        "gateway device site kind bus", "up latency_ms error stale stuck lat lon removed"
    ),
    schema.CAMERA: _m(
        "gateway device site",
        "up rtsp_ok latency_ms frames fps bitrate_kbps frozen clock_drift_s clock_error_s maker model_name "
        "firmware snapshot_bytes snapshot_changed snapshot_age_s",
    ),
    schema.AIR_QUALITY: _m(_SENSOR_TAGS, "pm25 pm10 co2_ppm tvoc_ppb"),
    schema.WEATHER: _m(_SENSOR_TAGS, "temp_c rh_pct"),
    schema.NOISE: _m(_SENSOR_TAGS, "laeq_db"),
    schema.TRAFFIC: _m(_SENSOR_TAGS + " lane primary", "volume speed_kmh occupancy_pct"),
    schema.GPS: _m(_SENSOR_TAGS, "lat lon sats fix"),
    schema.GATEWAY: _m(
        "gateway",
        "buffer_readings buffer_bytes oldest_s dropped uplink_up published refused_batches "
        "undelivered_batches rss_bytes disk_free_bytes write_bytes",
    ),
    schema.INGEST: _m("gateway bridge", "points batches gaps duplicates dead_letters malformed lag_s"),
    schema.AVAILABILITY: _m(
        "period scope gateway device site", "up_s down_s unknown_s up_pct down_pct unknown_pct"
    ),
    schema.MAINTENANCE: _m("scope device site", "until reason"),
    schema.ALERTS: _m(
        "alertname severity gateway device sensor radio ifname lane site", "firing unknown summary"
    ),
}
