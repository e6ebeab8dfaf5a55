"""An hour of readings for a small city in the schema's shape (docs/schema.md), for
running the dashboards' queries against a real InfluxDB.

Two gateways, each with three APs (two radios, two interfaces, three clients) and two intersections
(radar, air-quality, weather, noise and GPS sensors, a CCTV camera), their own health and the
bridge's, plus the alert engine's `alerts`. Values move over time; one AP reboots, one sensor goes
stale, one alert fires, one camera's picture freezes (`FROZEN_CAMERA`), a loop detector doubles a
radar's lane (`DOUBLED_SITE`),
and one AP (`SILENT_AP`) falls silent 20 minutes before the end, as behind a killed gateway.
Deterministic (seeded), so a failing query fails the same way every run.
"""

from __future__ import annotations

import random
import time

from edge_gateway.core.model import FieldValue, Reading

GATEWAYS = ("cbn-gw-01", "cbn-gw-02")
STEPS = 61
STEP_S = 60
CITY_LAT, CITY_LON = -6.7063, 108.5570
NS = 1_000_000_000
SILENT_AP, SILENT_AFTER_STEP = "ap-02-2", STEPS - 21
FROZEN_CAMERA = "int-01-1-cam-1"
LATE_AP, LATE_STEPS = "ap-01-2", (10, 20)  # its APLate fires at step 10 and resolves at step 20
MAINTENANCE = (("device", "ap-01-1", "new PoE injector"), ("site", "int-02-1", "fibre works"))
DOUBLED_SITE = "int-01-1"  # a loop detector (primary = false) counts lane 1 beside the radar


class _City:
    def __init__(self, end_ns: int) -> None:
        self.rng = random.Random(8)
        self.end_ns = end_ns
        self.out: list[Reading] = []

    def add(self, measurement: str, tags: dict[str, str], fields: dict[str, FieldValue], step: int) -> None:
        time_ns = self.end_ns - (STEPS - 1 - step) * STEP_S * NS
        self.out.append(Reading(measurement, tags, fields, time_ns))

    def near(self, centre: float, spread: float) -> float:
        return round(centre + self.rng.uniform(-spread, spread), 3)

    def ap(self, gateway: str, number: int, step: int) -> None:
        device = f"ap-{gateway[-2:]}-{number}"
        if device == SILENT_AP and step > SILENT_AFTER_STEP:
            return
        tags = {"gateway": gateway, "device": device, "site": f"site-{number}", "vendor": "mikrotik"}
        rebooted = number == 1 and step >= 30
        uptime_s = (step - 30 if rebooted else 86_400 + step) * STEP_S
        up = not (number == 3 and step > 55)
        lat, lon = CITY_LAT + number * 0.003, CITY_LON + int(gateway[-1]) * 0.004
        status = {"up": up, "latency_ms": self.near(40, 20), "error": "" if up else "timeout"}
        status_tags = {"gateway": gateway, "device": device, "site": tags["site"], "kind": "snmp"}
        self.add("device_status", status_tags, {**status, "lat": lat, "lon": lon}, step)
        if not up:
            self.add("ap", tags, {"up": False}, step)
            return
        ap_fields: dict[str, FieldValue] = {
            "up": True, "uptime_s": uptime_s, "cpu_pct": self.near(30, 20), "mem_used_pct": self.near(60, 5),
            "temp_c": self.near(48, 4), "clients": 6, "hotspot_users": 4, "dhcp_leases": 7,
        }  # fmt: skip
        self.add("ap", tags, ap_fields, step)
        for radio, band in (("wlan1", "2.4GHz"), ("wlan2", "5GHz")):
            radio_tags = {**tags, "radio": radio, "ssid": "Cirebon-Free"}
            radio_fields: dict[str, FieldValue] = {
                "clients": 3, "freq_mhz": 2437 if band == "2.4GHz" else 5180, "noise_dbm": self.near(-95, 3),
                "ccq_pct": self.near(80, 15), "tx_rate_bps": 72_000_000, "rx_rate_bps": 65_000_000,
                "util_pct": self.near(40, 30),
            }  # fmt: skip
            self.add("ap_radio", radio_tags, radio_fields, step)
            for client in range(3):
                client_fields: dict[str, FieldValue] = {
                    "signal_dbm": self.near(-65, 15), "snr_db": self.near(30, 10),
                    "tx_rate_bps": 54_000_000, "rx_rate_bps": 24_000_000, "uptime_s": step * STEP_S,
                }  # fmt: skip
                client_tags = {**tags, "radio": radio, "client": f"c{number}{radio}{client}"}
                self.add("ap_client", client_tags, client_fields, step)
        for ifname in ("ether1", "wlan1"):
            octets = step * 1_000_000 * number
            iface_fields: dict[str, FieldValue] = {
                "in_bps": self.near(2e6, 1e6), "out_bps": self.near(8e6, 3e6), "in_octets": octets,
                "out_octets": 4 * octets, "oper_up": True, "in_errors": 0, "out_errors": 0,
                "speed_mbps": 1000,
            }  # fmt: skip
            role = {"role": "uplink"} if ifname == "ether1" else {}  # as the vendor profile marks it
            self.add("ap_iface", {**tags, "ifname": ifname, **role}, iface_fields, step)

    def intersection(self, gateway: str, number: int, step: int) -> None:
        site = f"int-{gateway[-2:]}-{number}"
        lat, lon = CITY_LAT - number * 0.002, CITY_LON + int(gateway[-1]) * 0.005
        stale_sensor = number == 2 and gateway == GATEWAYS[0]
        for sensor, kind in (("radar", "radar"), ("pm", "modbus"), ("met", "modbus"), ("sound", "modbus")):
            stale = stale_sensor and sensor == "sound" and step > 40
            status: dict[str, FieldValue] = {
                "up": not stale, "latency_ms": self.near(30, 10), "error": "no reply" if stale else "",
                "stale": stale, "stuck": False, "lat": lat, "lon": lon,
            }  # fmt: skip
            device = f"{site}-{sensor}"
            self.add(
                "device_status",
                {"gateway": gateway, "device": device, "site": site, "kind": kind},
                status,
                step,
            )
        tags = {"gateway": gateway, "site": site, "bus": "rs485-1"}
        for lane in ("1", "2"):
            traffic = {
                "volume": self.rng.randint(5, 40),
                "speed_kmh": self.near(35, 15),
                "occupancy_pct": self.near(20, 15),
            }
            self.add("traffic", {**tags, "sensor": "radar", "lane": lane}, dict(traffic), step)
            if site == DOUBLED_SITE and lane == "1":  # a loop detector sees the radar's lane 1
                loop_tags = {**tags, "sensor": "loop", "lane": lane, "primary": "false"}
                self.add("traffic", loop_tags, dict(traffic), step)
        air = {"pm25": self.near(45, 40), "pm10": self.near(90, 60), "co2_ppm": 450, "tvoc_ppb": 120}
        self.add("air_quality", {**tags, "sensor": "pm"}, dict(air), step)
        self.add(
            "weather",
            {**tags, "sensor": "met"},
            {"temp_c": self.near(31, 3), "rh_pct": self.near(75, 10)},
            step,
        )
        if not (stale_sensor and step > 40):
            self.add("noise", {**tags, "sensor": "sound"}, {"laeq_db": self.near(68, 8)}, step)
        gps = {"lat": lat, "lon": lon, "sats": 9, "fix": 1}
        self.add("gps", {**tags, "sensor": "gps", "bus": "rs232-1"}, dict(gps), step)
        self.camera(gateway, site, (lat + 0.0002, lon), step)

    def camera(self, gateway: str, site: str, position: tuple[float, float], step: int) -> None:
        device = f"{site}-cam-1"
        tags = {"gateway": gateway, "device": device, "site": site}
        lat, lon = position
        status: dict[str, FieldValue] = {
            "up": True,
            "latency_ms": self.near(5, 3),
            "error": "",
            "lat": lat,
            "lon": lon,
        }
        self.add("device_status", {**tags, "kind": "camera"}, status, step)
        camera: dict[str, FieldValue] = {
            "up": True, "rtsp_ok": True, "latency_ms": status["latency_ms"], "frames": 50,
            "fps": self.near(25, 0.5), "bitrate_kbps": self.near(2000, 300),
            "frozen": device == FROZEN_CAMERA and step > 50, "clock_drift_s": self.near(0.5, 1),
        }  # fmt: skip
        self.add("camera", tags, camera, step)

    def health(self, gateway: str, step: int) -> None:
        backlog = 0 if step < 20 or step > 35 else (step - 20) * 200
        agent: dict[str, FieldValue] = {
            "buffer_readings": backlog, "buffer_bytes": backlog * 120, "oldest_s": float(backlog // 10),
            "dropped": max(0, step - 30) * 5, "uplink_up": not 20 <= step <= 35, "published": step * 150,
            "refused_batches": 0, "rss_bytes": 48_000_000, "disk_free_bytes": 9_000_000_000,
            "write_bytes": step * 90_000,
        }  # fmt: skip
        self.add("gateway", {"gateway": gateway}, agent, step)
        ingest: dict[str, FieldValue] = {
            "points": step * 150, "batches": step * 3, "gaps": 2 if 36 <= step <= 40 else 0,
            "duplicates": step // 20, "dead_letters": step // 30, "malformed": 0, "lag_s": self.near(2, 1.5),
        }  # fmt: skip
        self.add("ingest", {"gateway": gateway, "bridge": "bridge-1"}, ingest, step)

    def alerts(self, gateway: str, step: int) -> None:
        """As the engine writes them: each firing alert at every evaluation, a resolved one once.
        ap-*-3's APDown fires from step 58 on; LATE_AP's APLate fired for steps 10-19 and resolved."""
        device = f"ap-{gateway[-2:]}-3"
        tags = {"alertname": "APDown", "gateway": gateway, "device": device, "severity": "critical"}
        if step > 57:
            summary = f"Access point {device} has not answered 3 polls in a row"
            self.add("alerts", tags, {"firing": True, "unknown": False, "summary": summary}, step)
        if gateway == GATEWAYS[0] and LATE_STEPS[0] <= step <= LATE_STEPS[1]:
            late = {**tags, "alertname": "APLate", "device": LATE_AP, "severity": "warning"}
            firing = step < LATE_STEPS[1]
            summary = f"Access point {LATE_AP} answers, but too slowly"
            self.add("alerts", late, {"firing": firing, "unknown": False, "summary": summary}, step)


def _city_availability(city: _City) -> None:
    """What `edge dashboards availability` would have stored: a day per site, the city's month."""
    figures: dict[str, FieldValue] = {"up_pct": 97.5, "down_pct": 1.5, "unknown_pct": 1.0}
    for number in (1, 2, 3):
        city.add("availability", {"period": "day", "scope": "site", "site": f"site-{number}"}, figures, 0)
    city.add("availability", {"period": "month", "scope": "city"}, figures, 0)


def _maintenance(city: _City) -> None:
    """What `edge dashboards maintenance` copies at the end: one device and one site in maintenance."""
    for scope, name, reason in MAINTENANCE:
        fields: dict[str, FieldValue] = {"until": "2099-01-01T00:00:00Z", "reason": reason}
        city.add("maintenance", {"scope": scope, scope: name}, fields, STEPS - 1)


def city_readings(end_ns: int | None = None) -> list[Reading]:
    """An hour of the whole schema, one point per minute, the last one at `end_ns` (default: now)."""
    city = _City(end_ns if end_ns is not None else time.time_ns())
    for step in range(STEPS):
        for gateway in GATEWAYS:
            for number in (1, 2, 3):
                city.ap(gateway, number, step)
            for number in (1, 2):
                city.intersection(gateway, number, step)
            city.health(gateway, step)
            city.alerts(gateway, step)
    _city_availability(city)
    _maintenance(city)
    return city.out
