"""Open data for citizens: which hotspots work now, as GeoJSON and JSON (docs/open-data.md).

The alert engine's feed sees every gateway's whole stream; this keeps, per access point, only what
the public may know: its site, its position, whether it works now (`up`, `down`, or `unknown` when
its gateway cannot be seen: the same three states as the alerts) and how busy it is as a band
(`quiet`, `busy`, `full`), never a count, a device name, an address, a MAC or a user. An AP without a
position is not published. Served read-only by the bridge with caching headers (`Cache-Control`,
`ETag`, 304 on `If-None-Match`) and a per-client rate limit (429 with `Retry-After`).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiohttp import web

from edge_gateway.alerts.thresholds import THRESHOLDS
from edge_gateway.core import schema
from edge_gateway.core.model import Reading

CACHE_S = 30
STALE_AFTER_S = 120.0  # no status for this long (two default poll intervals, and then some): unknown


@dataclass
class _Hotspot:
    site: str = ""
    lat: float | None = None
    lon: float | None = None
    up: bool | None = None
    status_time_s: float = 0.0
    clients: int | None = None


def clients_band(clients: int | None) -> str | None:
    if clients is None:
        return None
    if clients < THRESHOLDS["hotspot_busy_clients"]:
        return "quiet"
    return "busy" if clients < THRESHOLDS["hotspot_full_clients"] else "full"


class Hotspots:
    def __init__(self, live: Callable[[str], bool], clock: Callable[[], float] = time.time) -> None:
        self.live, self.clock = live, clock
        self._aps: dict[tuple[str, str], _Hotspot] = {}

    def observe(self, gateway: str, readings: Iterable[Reading]) -> None:
        for reading in sorted(readings, key=lambda r: r.time_ns):
            device = reading.tags.get("device", "")
            if reading.measurement == schema.DEVICE_STATUS and reading.tags.get("kind") == "snmp":
                if reading.fields.get("removed") is True:
                    self._aps.pop((gateway, device), None)
                    continue
                ap = self._aps.setdefault((gateway, device), _Hotspot())
                if reading.time_ns / 1e9 < ap.status_time_s:
                    continue  # backfill older than what is known
                ap.site = reading.tags.get("site", ap.site)
                ap.status_time_s = reading.time_ns / 1e9
                ap.up = reading.fields.get("up") is True
                lat, lon = reading.fields.get("lat"), reading.fields.get("lon")
                if isinstance(lat, float | int) and isinstance(lon, float | int):
                    ap.lat, ap.lon = float(lat), float(lon)
            elif reading.measurement == schema.AP and (gateway, device) in self._aps:
                clients = reading.fields.get("clients")
                if isinstance(clients, int) and not isinstance(clients, bool):
                    self._aps[(gateway, device)].clients = clients

    def _status(self, gateway: str, ap: _Hotspot) -> str:
        if not self.live(gateway) or self.clock() - ap.status_time_s > STALE_AFTER_S:
            return "unknown"
        return "up" if ap.up else "down"

    def records(self) -> list[dict[str, object]]:
        """The documented fields only, sorted so the same state gives the same bytes (and ETag)."""
        rows = []
        for (gateway, _), ap in self._aps.items():
            if ap.lat is not None and ap.lon is not None:
                status = self._status(gateway, ap)
                band = clients_band(ap.clients) if status == "up" else None
                rows.append((ap.site, ap.lat, ap.lon, status, band))
        keys = ("site", "lat", "lon", "status", "clients")
        return [dict(zip(keys, row, strict=True)) for row in sorted(rows, key=lambda r: r[:3])]

    def documents(self) -> tuple[dict[str, object], dict[str, object]]:
        """(JSON, GeoJSON) of the hotspots now."""
        updated = datetime.datetime.fromtimestamp(int(self.clock()), datetime.UTC).isoformat()
        records = self.records()
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                "properties": {k: r[k] for k in ("site", "status", "clients")},
            }
            for r in records
        ]
        return (
            {"updated": updated, "hotspots": records},
            {"type": "FeatureCollection", "updated": updated, "features": features},
        )


class RateLimit:
    """A token bucket per client address: `per_minute` requests, bursts of up to a quarter of it."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate_per_s, self.burst = per_minute / 60.0, max(1.0, per_minute / 4)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def wait_s(self, client: str) -> float:
        """0 when the request may go, else the seconds until it may."""
        now = self.clock()
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate_per_s)
        if len(self._buckets) > 10_000:  # bounded: forget everyone rather than grow forever
            self._buckets.clear()
        if tokens >= 1:
            self._buckets[client] = (tokens - 1, now)
            return 0.0
        self._buckets[client] = (tokens, now)
        return (1 - tokens) / self.rate_per_s


def application(hotspots: Hotspots, limit: RateLimit) -> web.Application:
    async def serve(request: web.Request) -> web.StreamResponse:
        wait_s = limit.wait_s(request.remote or "?")
        if wait_s:
            return web.Response(status=429, headers={"Retry-After": str(int(wait_s) + 1)})
        plain, geo = hotspots.documents()
        geojson = request.path.endswith(".geojson")
        body = json.dumps(geo if geojson else plain, separators=(",", ":")).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {
            "Cache-Control": f"public, max-age={CACHE_S}",
            "ETag": etag,
            "Access-Control-Allow-Origin": "*",
        }
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        kind = "application/geo+json" if geojson else "application/json"
        return web.Response(body=body, content_type=kind, headers=headers)

    app = web.Application()
    app.router.add_get("/open-data/hotspots.json", serve)
    app.router.add_get("/open-data/hotspots.geojson", serve)
    return app
