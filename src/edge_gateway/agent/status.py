"""The agent's own web page, `/metrics` and `/healthz`.

For the technician on site (the page itself: src/edge_gateway/agent/status_page.py): every device with its
state, since
when and why, the key figures of its kind and the last hour of polls; every sensor with its last
values (each lane labelled) and their age; every serial bus; the buffer and the uplink. For
Prometheus: the same as metrics.
For systemd and load balancers: `/healthz` answers 503 when the uplink has been down longer than
`status.unhealthy_after_s` (the buffer then grows) or the buffer has started dropping readings.
Bound to 127.0.0.1 by default; any other address needs a token (`?token=` or a Bearer header).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from edge_gateway.agent.buffer import Buffer
from edge_gateway.agent.config import AgentConfig, StatusSection
from edge_gateway.agent.status_http import HttpServer, Request, Response
from edge_gateway.agent.status_maintenance import MaintenanceWatch
from edge_gateway.agent.status_page import render_page
from edge_gateway.agent.uplink import UplinkStats
from edge_gateway.core import schema
from edge_gateway.core.metrics import NO_LABELS, Metric, render
from edge_gateway.core.model import FieldValue, Reading

log = logging.getLogger(__name__)

REFRESH_S = 10


HISTORY_S = 3600  # the page's small history: the last hour, from memory
SKIP_TAGS = frozenset({"device", "sensor", "site", "bus", "kind", "vendor", "model"})


@dataclass
class DeviceState:
    kind: str
    site: str
    up: bool = False
    latency_ms: float = 0.0
    error: str = ""
    last_poll_ns: int = 0
    since_ns: int = 0  # when `up` last changed (or the first poll)
    values: dict[str, FieldValue] = field(default_factory=dict)
    values_time_ns: int = 0
    ifaces: dict[str, dict[str, float]] = field(default_factory=dict)  # in_bps, out_bps, util_pct
    uplinks: set[str] = field(default_factory=set)  # the ifnames the profile tags `role = uplink`
    history: deque[tuple[int, bool]] = field(default_factory=deque)  # (time_ns, up) of each poll

    def polled(self, up: bool, time_ns: int) -> None:
        if not self.last_poll_ns or up != self.up:
            self.since_ns = time_ns
        self.up = up
        self.history.append((time_ns, up))
        while self.history and self.history[0][0] < time_ns - HISTORY_S * 1_000_000_000:
            self.history.popleft()

    def figures(self) -> dict[str, FieldValue]:
        """The key figures of its kind: an AP's clients, signal, and its backhaul: the traffic and the
        utilisation of its uplink interfaces (summing every interface would count a packet on the radio,
        the bridge, the PPPoE session and the WAN port four times); a sensor's last values (each lane
        labelled). An AP whose profile names no uplink shows its interfaces one by one only."""
        figures = dict(self.values)
        uplinks = [rates for name, rates in self.ifaces.items() if name in self.uplinks]
        for key in ("in_bps", "out_bps"):
            rates = [i[key] for i in uplinks if key in i]
            if rates:
                figures[key] = round(sum(rates))
        utils = [i["util_pct"] for i in uplinks if "util_pct" in i]
        if utils:
            figures["util_pct"] = max(utils)
        return figures


@dataclass
class BusState:
    """One serial port's line: errors and utilisation over the owner's reporting window."""

    site: str
    fields: dict[str, FieldValue] = field(default_factory=dict)
    time_ns: int = 0


def _iface(reading: Reading) -> dict[str, float]:
    fields = reading.fields
    rates = {k: float(v) for k in ("in_bps", "out_bps") if isinstance(v := fields.get(k), int | float)}
    speed_mbps = fields.get("speed_mbps")
    if rates and isinstance(speed_mbps, int | float) and speed_mbps > 0:
        rates["util_pct"] = round(100 * max(rates.values()) / (speed_mbps * 1_000_000), 1)
    return rates


def _labelled(reading: Reading) -> dict[str, FieldValue]:
    """Fields of a sensor reading, prefixed by its own tags (`lane 2 count`) so lanes do not merge."""
    label = " ".join(f"{k} {v}" for k, v in sorted(reading.tags.items()) if k not in SKIP_TAGS)
    return {f"{label} {k}" if label else k: v for k, v in reading.fields.items()}


class Board:
    """The latest state of every device, sensor and serial bus, fed by the agent's sink."""

    def __init__(self) -> None:
        self.devices: dict[str, DeviceState] = {}
        self.buses: dict[str, BusState] = {}
        self.addresses: dict[str, str] = {}  # device name -> where it is, from the config (addresses_of)
        self.polled = asyncio.Event()  # set at each device_status: a remote config's watch awaits it
        # The last cycle of each serial sensor (its readings, then its device_status): what a remote
        # probe answers, since the bus belongs to its collector (agent/remote_probe.py).
        self.serial_cycles: dict[str, list[Reading]] = {}
        self._serial_pending: dict[str, list[Reading]] = {}

    def record(self, readings: Sequence[Reading]) -> None:
        for reading in readings:
            if reading.measurement == "serial_bus" and reading.tags.get("bus"):
                bus = self.buses.setdefault(reading.tags["bus"], BusState(reading.tags.get("site", "")))
                bus.fields, bus.time_ns = dict(reading.fields), reading.time_ns
                continue
            name = reading.tags.get("device") or reading.tags.get("sensor")
            if not name:
                continue
            if reading.measurement == schema.DEVICE_STATUS and reading.fields.get("removed") is True:
                self.devices.pop(name, None)  # dropped from the config by a reload
                continue
            state = self.devices.setdefault(
                name, DeviceState(reading.tags.get("kind", ""), reading.tags.get("site", ""))
            )
            self._take(state, reading)
            if "bus" in reading.tags:
                self._serial_cycle(name, reading)
            if reading.measurement == schema.DEVICE_STATUS:
                self.polled.set()

    def _serial_cycle(self, name: str, reading: Reading) -> None:
        if reading.measurement == schema.DEVICE_STATUS:
            self.serial_cycles[name] = [*self._serial_pending.pop(name, []), reading]
        else:
            self._serial_pending.setdefault(name, []).append(reading)

    @staticmethod
    def _take(state: DeviceState, reading: Reading) -> None:
        fields = reading.fields
        if reading.measurement == schema.DEVICE_STATUS:
            state.kind = reading.tags.get("kind", state.kind)
            state.latency_ms = float(fields.get("latency_ms", 0.0))
            state.error = str(fields.get("error", ""))
            state.polled(bool(fields.get("up", False)), reading.time_ns)
            state.last_poll_ns = reading.time_ns
        elif reading.measurement == schema.AP and "clients" in fields:
            state.values["clients"] = fields["clients"]
            state.values_time_ns = reading.time_ns
        elif reading.measurement == schema.AP_IFACE and reading.tags.get("ifname", "lo") != "lo":
            state.ifaces[reading.tags["ifname"]] = _iface(reading)
            if reading.tags.get("role") == "uplink":
                state.uplinks.add(reading.tags["ifname"])
        elif reading.measurement in (schema.AP_RADIO, schema.AP_CLIENT) and "signal_dbm" in fields:
            state.values["signal_dbm"] = fields["signal_dbm"]
        elif reading.measurement in schema.SENSOR_MEASUREMENTS:
            state.values.update(_labelled(reading))
            state.values_time_ns = reading.time_ns


def addresses_of(config: AgentConfig) -> dict[str, str]:
    """Where each configured device is, for the page: an AP's host, a sensor's port and address, a
    camera's host (never its URL's credentials)."""
    found = {device.name: device.host for device in config.snmp.devices}
    for bus in config.serial.buses:
        found[bus.name] = bus.port
        for sensor in bus.sensors:
            address = sensor.address
            found[sensor.name] = f"{bus.port} #{address}" if address is not None else bus.port
    for camera in config.camera.devices:
        found[camera.name] = urlsplit(camera.rtsp_url).hostname or ""
    return found


def _age_s(now_ns: int, then_ns: int) -> float | None:
    return round((now_ns - then_ns) / 1e9, 1) if then_ns else None


def _minutes(history: deque[tuple[int, bool]], now_ns: int) -> list[bool | None]:
    """The last hour as 60 one-minute cells, oldest first: down if any poll of it failed."""
    cells: list[bool | None] = [None] * 60
    for time_ns, up in history:
        minute = 59 - int((now_ns - time_ns) // 60_000_000_000)
        if 0 <= minute < 60:
            cells[minute] = up if cells[minute] is None else cells[minute] and up
    return cells


def _device(d: DeviceState, now_ns: int, address: str, maintenance: dict[str, str] | None) -> dict[str, Any]:
    return {
        "address": address,
        "maintenance": maintenance,
        "kind": d.kind,
        "site": d.site,
        "up": d.up,
        "since_s": _age_s(now_ns, d.since_ns),
        "latency_ms": d.latency_ms,
        "error": d.error,
        "last_poll_age_s": _age_s(now_ns, d.last_poll_ns),
        "values": d.values,
        "figures": d.figures(),
        "ifaces": d.ifaces,
        "values_age_s": _age_s(now_ns, d.values_time_ns),
        "history": _minutes(d.history, now_ns),
    }


class StatusServer:
    def __init__(
        self,
        conf: StatusSection,
        gateway_id: str,
        board: Board,
        buffer: Buffer,
        uplink: UplinkStats,
        maintenance: MaintenanceWatch | None = None,
    ) -> None:
        self.maintenance = maintenance  # from Alertmanager's silences when `alertmanager_url` is set
        self.conf, self.gateway_id, self.board, self.buffer, self.uplink = (
            conf,
            gateway_id,
            board,
            buffer,
            uplink,
        )
        routes = {"/": self.page, "/metrics": self.metrics, "/healthz": self.healthz, "/api/status": self.api}
        self.http = HttpServer(routes, self._auth)

    def _auth(self, request: Request) -> Response | None:
        """A 401 unless the token is given (`?token=` or a Bearer header), when one is configured."""
        if self.conf.token is not None:
            expected = self.conf.token.get_secret_value()
            given = request.query.get("token") or request.headers.get("authorization", "").removeprefix(
                "Bearer "
            )
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return Response.text(401, "token required\n")
        return None

    def health(self) -> tuple[bool, str]:
        """Healthy or not, and why; an uplink that is down but not yet for long is said too. Connected is
        not enough: a backlog older than `unhealthy_after_s` (no subscriber at the broker, a refusal, a
        link too slow for the catch-up) is unhealthy, with the broker's reason when it gave one."""
        stats = self.buffer.stats()
        if stats.dropped and stats.bytes >= self.buffer.max_bytes:
            return False, f"buffer full: {stats.dropped} readings dropped"
        if self.uplink.down_since_s is not None:
            down_s = time.monotonic() - self.uplink.down_since_s
            waiting = f"uplink down for {down_s:.0f} s; {stats.readings} readings waiting"
            if down_s > self.conf.unhealthy_after_s:
                return False, waiting
            return True, f"ok, but {waiting} (unhealthy after {self.conf.unhealthy_after_s:g} s)"
        oldest_s = (time.time_ns() - stats.oldest_time_ns) / 1e9 if stats.oldest_time_ns else 0.0
        if oldest_s > self.conf.unhealthy_after_s:  # connected, yet the backlog is not delivered
            why = self.uplink.delivery_problem or "the uplink is catching up"
            return False, f"{stats.readings} readings waiting, the oldest {oldest_s:.0f} s old: {why}"
        return True, "ok"

    async def healthz(self, request: Request) -> Response:
        healthy, why = self.health()
        return Response.text(200 if healthy else 503, why + "\n")

    def snapshot(self) -> dict[str, Any]:
        stats = self.buffer.stats()
        now_ns = time.time_ns()
        oldest_s = (now_ns - stats.oldest_time_ns) / 1e9 if stats.oldest_time_ns else 0.0
        healthy, why = self.health()
        return {
            "gateway": self.gateway_id,
            "healthy": healthy,
            "health_reason": why,
            "uplink": {"connected": self.uplink.connected, "published": self.uplink.published_readings},
            "buffer": {
                "readings": stats.readings,
                "bytes": stats.bytes,
                "oldest_s": round(oldest_s, 1),
                "dropped": stats.dropped,
            },
            "devices": {
                name: _device(d, now_ns, self.board.addresses.get(name, ""), self._maintenance(name, d.site))
                for name, d in sorted(self.board.devices.items())
            },
            "buses": {
                name: {"site": b.site, **b.fields, "age_s": round((now_ns - b.time_ns) / 1e9, 1)}
                for name, b in sorted(self.board.buses.items())
            },
        }

    def _maintenance(self, device: str, site: str) -> dict[str, str] | None:
        if self.maintenance is None:
            return None
        return self.maintenance.of(device, site, datetime.now(UTC))

    async def api(self, request: Request) -> Response:
        return Response.json(self.snapshot())

    async def metrics(self, request: Request) -> Response:
        stats = self.buffer.stats()
        oldest_s = (time.time_ns() - stats.oldest_time_ns) / 1e9 if stats.oldest_time_ns else 0.0
        devices = [(name, d) for name, d in sorted(self.board.devices.items()) if d.last_poll_ns]
        labels = {n: {"device": n, "kind": d.kind, "site": d.site} for n, d in devices}
        uplink = self.uplink
        text = render(
            [
                Metric(
                    "edge_buffer_readings",
                    "gauge",
                    "Readings held in the disk buffer.",
                    [(NO_LABELS, stats.readings)],
                ),
                Metric(
                    "edge_buffer_bytes",
                    "gauge",
                    "Line-protocol bytes held in the buffer.",
                    [(NO_LABELS, stats.bytes)],
                ),
                Metric(
                    "edge_buffer_oldest_seconds",
                    "gauge",
                    "Age of the oldest reading held.",
                    [(NO_LABELS, oldest_s)],
                ),
                Metric(
                    "edge_buffer_dropped_total",
                    "counter",
                    "Readings dropped by on_full.",
                    [(NO_LABELS, stats.dropped)],
                ),
                Metric(
                    "edge_uplink_up",
                    "gauge",
                    "1 when connected to the broker.",
                    [(NO_LABELS, float(uplink.connected))],
                ),
                Metric(
                    "edge_published_readings_total",
                    "counter",
                    "Readings acknowledged.",
                    [(NO_LABELS, uplink.published_readings)],
                ),
                Metric(
                    "edge_refused_batches_total",
                    "counter",
                    "Publishes refused.",
                    [(NO_LABELS, uplink.refused_batches)],
                ),
                Metric(
                    "edge_undelivered_batches_total",
                    "counter",
                    "Publishes no subscriber would receive (PUBACK 0x10): kept and retried.",
                    [(NO_LABELS, uplink.undelivered_batches)],
                ),
                Metric(
                    "edge_device_up",
                    "gauge",
                    "1 when the last poll worked.",
                    [(labels[n], float(d.up)) for n, d in devices],
                ),
                Metric(
                    "edge_device_latency_ms",
                    "gauge",
                    "Last poll duration.",
                    [(labels[n], d.latency_ms) for n, d in devices],
                ),
            ]
        )
        return Response.text(200, text)

    async def page(self, request: Request) -> Response:
        body = render_page(self.snapshot(), REFRESH_S)
        return Response.text(200, body, "text/html; charset=utf-8")

    async def serve(self) -> None:
        """Serve until cancelled."""
        host, port = self.conf.address
        try:
            server = await self.http.start(host, port)
        except OSError as exc:  # the page is for people: without it, collecting and forwarding go on
            log.error("status page not served on %s:%d: %s", host, port, exc)
            return
        log.info("status page on http://%s:%d/", host, port)
        try:
            await asyncio.Event().wait()
        finally:
            server.close()
            self.http.close_connections()
