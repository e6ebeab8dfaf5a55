"""The bridge's small HTTP server: `/metrics` (Prometheus text format) and `/healthz` (for probes).

One aiohttp server in the bridge's own event loop; it listens on loopback by default, since it is
meant for a local Prometheus or a load balancer's probe, not for the world.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from edge_gateway.bridge.accounting import Accounts
from edge_gateway.bridge.deadletters import DeadLetters
from edge_gateway.bridge.fleet import FleetWatch
from edge_gateway.bridge.fleet_page import add_fleet_routes
from edge_gateway.bridge.store import StoreStats
from edge_gateway.core.metrics import NO_LABELS, Labels, Metric, render

Samples = list[tuple[Labels, float]]
PER_GATEWAY: tuple[tuple[str, Literal["counter", "gauge"], str, str], ...] = (
    ("points_total", "counter", "points stored", "points"),
    ("batches_total", "counter", "MQTT messages (gateway batches) stored", "batches"),
    ("seq_gaps", "gauge", "seq numbers not (yet) seen", "gaps"),
    ("duplicates_total", "counter", "batches seen again (redeliveries, harmless)", "duplicates"),
    ("dead_letters_total", "counter", "lines set aside as unstorable", "dead_letters"),
    ("malformed_messages_total", "counter", "messages set aside as unusable", "malformed"),
    ("quarantined_messages_total", "counter", "messages set aside during a quarantine", "quarantined"),
    ("lag_seconds", "gauge", "storing time minus the newest reading's time, last batch", "lag_s"),
)


@dataclass
class Status:
    """What the pages show; the bridge fills it in."""

    bridge_id: str
    accounts: Accounts
    store: StoreStats
    connected: Callable[[], bool]
    pending_points: Callable[[], int]
    dead_letters: DeadLetters
    quarantined: Callable[[], list[str]]
    fleet: FleetWatch | None = None  # /fleet and /fleet.json (docs/fleet.md)

    def healthy(self) -> bool:
        """Connected to the broker, and the database took the last write (or nothing was written yet)."""
        return self.connected() and self.store.healthy is not False


def render_metrics(status: Status) -> str:
    out: list[Metric] = []

    def metric(name: str, kind: Literal["counter", "gauge"], help_text: str, samples: Samples) -> None:
        out.append(Metric(f"edge_bridge_{name}", kind, help_text, samples))

    accounts = sorted(status.accounts.by_gateway.items())
    for name, kind, help_text, attribute in PER_GATEWAY:
        samples: Samples = [({"gateway": gw}, float(getattr(acc, attribute))) for gw, acc in accounts]
        metric(name, kind, f"{help_text}, per gateway", samples)
    stats = status.store
    metric(
        "unattributed_messages_total",
        "counter",
        "messages on a topic with no valid gateway id",
        [(NO_LABELS, status.accounts.malformed_messages)],
    )
    letters = sorted(status.dead_letters.counts.items())
    metric(
        "dead_letter_records_total",
        "counter",
        "records written to the dead letters, per gateway and reason",
        [({"gateway": gw, "reason": reason}, n) for (gw, reason), n in letters],
    )
    metric(
        "dead_letter_write_errors_total",
        "counter",
        "dead letters that could not be written (disk)",
        [(NO_LABELS, status.dead_letters.write_errors)],
    )
    metric(
        "quarantined",
        "gauge",
        "1 while the gateway's messages are set aside for refused lines",
        [({"gateway": gw}, 1.0) for gw in status.quarantined()],
    )
    metric(
        "write_requests_total",
        "counter",
        "HTTP write requests to the database",
        [(NO_LABELS, stats.requests)],
    )
    metric(
        "refused_requests_total",
        "counter",
        "write requests the database refused (400, 413, 422: the data)",
        [(NO_LABELS, stats.refused_requests)],
    )
    metric(
        "write_failures_total",
        "counter",
        "write requests retried (database down, 5xx, 429, timeout)",
        [(NO_LABELS, stats.failed_requests)],
    )
    metric(
        "rejected_lines_total",
        "counter",
        "lines the database refused (dead-lettered)",
        [(NO_LABELS, stats.rejected_lines)],
    )
    metric("stored_points_total", "counter", "points stored, all gateways", [(NO_LABELS, stats.points)])
    metric(
        "pending_points",
        "gauge",
        "points received but not yet stored",
        [(NO_LABELS, status.pending_points())],
    )
    metric(
        "mqtt_connected", "gauge", "1 when connected to the broker", [(NO_LABELS, float(status.connected()))]
    )
    metric("healthy", "gauge", "1 when /healthz answers 200", [(NO_LABELS, float(status.healthy()))])
    return render(out)


def make_app(status: Status) -> web.Application:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(text=render_metrics(status), content_type="text/plain", charset="utf-8")

    async def healthz(_: web.Request) -> web.Response:
        ok = status.healthy()
        return web.Response(text="ok\n" if ok else "unhealthy\n", status=200 if ok else 503)

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    if status.fleet is not None:
        add_fleet_routes(app, status.fleet)
    return app


async def start(status: Status, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve the pages; returns the runner (to clean up) and the port really bound (for port 0)."""
    runner = web.AppRunner(make_app(status), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1] if runner.addresses else port
    return runner, int(bound)
