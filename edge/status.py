"""The agent's own web page, `/metrics` and `/healthz`.

For the technician on site: every device with up/down, last poll, latency and clients; every sensor
with its last values and their age; the buffer and the uplink. For Prometheus: the same as metrics.
For systemd and load balancers: `/healthz` answers 503 when the uplink has been down longer than
`status.unhealthy_after_s` (the buffer then grows) or the buffer has started dropping readings.
Bound to 127.0.0.1 by default; any other address needs a token (`?token=` or a Bearer header).
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from edge.buffer import Buffer
from edge.config import StatusSection
from edge.model import FieldValue, Reading
from edge.uplink import UplinkStats

log = logging.getLogger(__name__)

SENSOR_MEASUREMENTS = frozenset({"air_quality", "weather", "noise", "traffic", "gps"})
REFRESH_S = 10


@dataclass
class DeviceState:
    kind: str
    site: str
    up: bool = False
    latency_ms: float = 0.0
    error: str = ""
    last_poll_ns: int = 0
    values: dict[str, FieldValue] = field(default_factory=dict)
    values_time_ns: int = 0


class Board:
    """The latest state of every device and sensor, fed by the agent's sink."""

    def __init__(self) -> None:
        self.devices: dict[str, DeviceState] = {}

    def record(self, readings: Sequence[Reading]) -> None:
        for reading in readings:
            name = reading.tags.get("device") or reading.tags.get("sensor")
            if not name:
                continue
            if reading.measurement == "device_status" and reading.fields.get("removed") is True:
                self.devices.pop(name, None)  # dropped from the config by a reload
                continue
            state = self.devices.setdefault(
                name, DeviceState(reading.tags.get("kind", ""), reading.tags.get("site", ""))
            )
            if reading.measurement == "device_status":
                state.kind = reading.tags.get("kind", state.kind)
                state.up = bool(reading.fields.get("up", False))
                state.latency_ms = float(reading.fields.get("latency_ms", 0.0))
                state.error = str(reading.fields.get("error", ""))
                state.last_poll_ns = reading.time_ns
            elif reading.measurement == "ap" and "clients" in reading.fields:
                state.values["clients"] = reading.fields["clients"]
                state.values_time_ns = reading.time_ns
            elif reading.measurement in SENSOR_MEASUREMENTS:
                state.values.update(reading.fields)
                state.values_time_ns = reading.time_ns


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class StatusServer:
    def __init__(
        self, conf: StatusSection, gateway_id: str, board: Board, buffer: Buffer, uplink: UplinkStats
    ) -> None:
        self.conf, self.gateway_id, self.board, self.buffer, self.uplink = (
            conf,
            gateway_id,
            board,
            buffer,
            uplink,
        )
        self.app = web.Application(middlewares=[self._auth])
        self.app.add_routes(
            [
                web.get("/", self.page),
                web.get("/metrics", self.metrics),
                web.get("/healthz", self.healthz),
                web.get("/api/status", self.api),
            ]
        )

    @web.middleware
    async def _auth(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if self.conf.token is not None:
            expected = self.conf.token.get_secret_value()
            given = request.query.get("token") or request.headers.get("Authorization", "").removeprefix(
                "Bearer "
            )
            if not hmac.compare_digest(given.encode(), expected.encode()):
                raise web.HTTPUnauthorized(text="token required\n")
        return await handler(request)

    def health(self) -> tuple[bool, str]:
        stats = self.buffer.stats()
        if self.uplink.down_since_s is not None:
            down_s = time.monotonic() - self.uplink.down_since_s
            if down_s > self.conf.unhealthy_after_s:
                return False, f"uplink down for {down_s:.0f} s; {stats.readings} readings waiting"
        if stats.dropped and stats.bytes >= self.buffer.max_bytes:
            return False, f"buffer full: {stats.dropped} readings dropped"
        return True, "ok"

    async def healthz(self, request: web.Request) -> web.Response:
        healthy, why = self.health()
        return web.Response(status=200 if healthy else 503, text=why + "\n")

    def snapshot(self) -> dict[str, Any]:
        stats = self.buffer.stats()
        now_ns = time.time_ns()
        oldest_s = (now_ns - stats.oldest_time_ns) / 1e9 if stats.oldest_time_ns else 0.0
        return {
            "gateway": self.gateway_id,
            "healthy": self.health()[0],
            "uplink": {"connected": self.uplink.connected, "published": self.uplink.published_readings},
            "buffer": {
                "readings": stats.readings,
                "bytes": stats.bytes,
                "oldest_s": round(oldest_s, 1),
                "dropped": stats.dropped,
            },
            "devices": {
                name: {
                    "kind": d.kind,
                    "site": d.site,
                    "up": d.up,
                    "latency_ms": d.latency_ms,
                    "error": d.error,
                    "last_poll_age_s": round((now_ns - d.last_poll_ns) / 1e9, 1) if d.last_poll_ns else None,
                    "values": d.values,
                    "values_age_s": round((now_ns - d.values_time_ns) / 1e9, 1) if d.values_time_ns else None,
                }
                for name, d in sorted(self.board.devices.items())
            },
        }

    async def api(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())

    async def metrics(self, request: web.Request) -> web.Response:
        stats = self.buffer.stats()
        oldest_s = (time.time_ns() - stats.oldest_time_ns) / 1e9 if stats.oldest_time_ns else 0.0
        devices = [(name, d) for name, d in sorted(self.board.devices.items()) if d.last_poll_ns]
        labels = {
            n: f'{{device="{_label(n)}",kind="{_label(d.kind)}",site="{_label(d.site)}"}}' for n, d in devices
        }
        table: list[tuple[str, str, str, list[tuple[str, float]]]] = [
            ("edge_buffer_readings", "gauge", "Readings held in the disk buffer.", [("", stats.readings)]),
            ("edge_buffer_bytes", "gauge", "Line-protocol bytes held in the buffer.", [("", stats.bytes)]),
            ("edge_buffer_oldest_seconds", "gauge", "Age of the oldest reading held.", [("", oldest_s)]),
            ("edge_buffer_dropped_total", "counter", "Readings dropped by on_full.", [("", stats.dropped)]),
            (
                "edge_uplink_up",
                "gauge",
                "1 when connected to the broker.",
                [("", float(self.uplink.connected))],
            ),
            (
                "edge_published_readings_total",
                "counter",
                "Readings acknowledged.",
                [("", self.uplink.published_readings)],
            ),
            (
                "edge_refused_batches_total",
                "counter",
                "Publishes refused.",
                [("", self.uplink.refused_batches)],
            ),
            (
                "edge_undelivered_batches_total",
                "counter",
                "Publishes no subscriber would receive (PUBACK 0x10): kept and retried.",
                [("", self.uplink.undelivered_batches)],
            ),
            (
                "edge_device_up",
                "gauge",
                "1 when the last poll worked.",
                [(labels[n], float(d.up)) for n, d in devices],
            ),
            (
                "edge_device_latency_ms",
                "gauge",
                "Last poll duration.",
                [(labels[n], d.latency_ms) for n, d in devices],
            ),
        ]
        out = []
        for name, kind, help_text, samples in table:
            out.append(f"# HELP {name} {help_text}\n# TYPE {name} {kind}")
            out.extend(f"{name}{sample_labels} {value:g}" for sample_labels, value in samples)
        return web.Response(text="\n".join(out) + "\n", content_type="text/plain", charset="utf-8")

    async def page(self, request: web.Request) -> web.Response:
        snap = self.snapshot()
        esc = html.escape
        rows = []
        for name, d in snap["devices"].items():
            values = ", ".join(f"{esc(k)}={esc(str(v))}" for k, v in d["values"].items())
            state = "unknown" if d["last_poll_age_s"] is None else "up" if d["up"] else "down"
            age = "-" if d["last_poll_age_s"] is None else f"{d['last_poll_age_s']} s"
            vage = "" if d["values_age_s"] is None else f" ({d['values_age_s']} s ago)"
            rows.append(
                f'<tr class="{state}"><td>{esc(name)}</td><td>{esc(d["kind"])}</td><td>{esc(d["site"])}</td>'
                f"<td>{state}</td><td>{age}</td><td>{d['latency_ms']}</td><td>{values}{vage}</td>"
                f"<td>{esc(d['error'])}</td></tr>"
            )
        buf, up = snap["buffer"], snap["uplink"]
        body = PAGE.format(
            gateway=esc(self.gateway_id),
            refresh=REFRESH_S,
            health="healthy" if snap["healthy"] else "UNHEALTHY",
            uplink="connected" if up["connected"] else "DOWN",
            buffer=f"{buf['readings']} readings, oldest {buf['oldest_s']} s, dropped {buf['dropped']}",
            rows="\n".join(rows) or '<tr><td colspan="8">no device polled yet</td></tr>',
        )
        return web.Response(text=body, content_type="text/html", charset="utf-8")

    async def serve(self) -> None:
        """Serve until cancelled."""
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        host, port = self.conf.address
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:  # the page is for people: without it, collecting and forwarding go on
            log.error("status page not served on %s:%d: %s", host, port, exc)
            await runner.cleanup()
            return
        log.info("status page on http://%s:%d/", host, port)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{refresh}">
<title>edge gateway {gateway}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: .3em .6em; text-align: left; }}
tr.up td:nth-child(4) {{ color: #0a0; font-weight: bold; }}
tr.down td:nth-child(4) {{ color: #c00; font-weight: bold; }}
</style></head><body>
<h1>Gateway {gateway}</h1>
<p>Health: <b>{health}</b> · Uplink: <b>{uplink}</b> · Buffer: {buffer}</p>
<table><thead><tr><th>device / sensor</th><th>kind</th><th>site</th><th>state</th><th>last poll</th>
<th>latency ms</th><th>last values</th><th>error</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<p><a href="/metrics">metrics</a> · <a href="/api/status">JSON</a> · refreshes every {refresh} s</p>
</body></html>
"""
