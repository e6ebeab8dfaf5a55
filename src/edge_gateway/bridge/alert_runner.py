"""The alert engine inside the bridge: what it observes, how often it judges, where alerts go.

Several bridges share the data stream (a shared subscription: each gets a part of every gateway's
messages), so an engine fed by its bridge's share would count `for_cycles` on a part and miss
absences that only another bridge saw. The engine therefore has its own connection with a plain,
non-shared subscription to every gateway's data and status: every bridge's engine sees the whole
stream and reaches the same verdicts, so two bridges send Alertmanager the same alerts (which it
merges by their labels) and write the same `alerts` points (same tags, and a time aligned to the
evaluation period, so one overwrites the other). Electing one evaluator would save that work but
needs a lease and a failover that could itself lose alerts; the whole stream is cheap, since lines are
parsed only for measurements some rule looks at (the interface counters cost a prefix lookup).

That connection is a clean session that expires when it drops: while a bridge is down nothing is
queued for its engine, whose view of a gateway simply goes stale and whose alerts are `unknown`
until it hears again. Every `evaluate_every_s` (on the wall clock's multiples) the engine judges
absence; active alerts go to Alertmanager (re-sent each time, so a dead bridge's alerts expire) and
to InfluxDB as `alerts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterable
from typing import Any

import aiohttp
import aiomqtt
from aiohttp import web

from edge_gateway.alerts.alertmanager import AlertmanagerClient
from edge_gateway.alerts.engine import Engine
from edge_gateway.alerts.hotspots import Hotspots, RateLimit, application
from edge_gateway.alerts.rules import Rule
from edge_gateway.bridge.config import AlertsSection, BridgeMqttSection
from edge_gateway.bridge.influx import InfluxWriter, WriteError
from edge_gateway.bridge.ingest import gateway_of
from edge_gateway.bridge.limits import LimitError, gunzip_bounded
from edge_gateway.core import wire
from edge_gateway.core.backoff import Backoff
from edge_gateway.core.config_checks import split_host_port
from edge_gateway.core.lineproto import LineProtocolError, encode_many, parse
from edge_gateway.core.mqtt import Client, client_options

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 2**20  # decompressed; the consumer dead-letters what is larger than it takes
# A status is a small JSON summary; anything larger is hostile and never parsed (a deeply nested
# payload of this size still fits the parser's recursion limit, which is caught as well).
MAX_STATUS_BYTES = 64 * 2**10


class AlertRunner:
    def __init__(self, conf: AlertsSection, rules: list[Rule], mqtt: BridgeMqttSection) -> None:
        self.conf = conf
        self.mqtt = mqtt
        self.engine = Engine(rules, max_age_s=conf.max_age_s)
        self.hotspots = Hotspots(self.engine.live)
        self.open_data_port: int | None = None  # where the public feed listens, once it does
        self._measurements = tuple(sorted({f"{r.measurement}," for r in rules if r.measurement}))

    def observe(self, gateway: str, lines: Iterable[str]) -> None:
        readings = []
        for line in lines:
            if line.startswith(self._measurements):
                with contextlib.suppress(LineProtocolError):  # the consumer dead-letters it
                    readings.append(parse(line))
        if readings:
            self.engine.observe(gateway, readings)
            self.hotspots.observe(gateway, readings)

    def status_message(self, topic: str, payload: bytes) -> None:
        """`edge/<id>/status` JSON from the agent (online, stopped) or its Last Will (offline)."""
        parts = topic.split("/")
        if len(payload) > MAX_STATUS_BYTES:
            return
        try:
            state = json.loads(payload).get("state") if payload else None
        except (ValueError, AttributeError, RecursionError):
            state = None
        if len(parts) == 3 and isinstance(state, str):
            self.engine.gateway_status(parts[1], state)

    def data_message(self, topic: str, payload: bytes, content_type: str) -> None:
        """A batch as the gateway sent it; what cannot be read is skipped (the consumer reports it)."""
        gateway = gateway_of(topic)
        if gateway is None:
            return
        if content_type == wire.CONTENT_TYPE_GZIP:
            try:
                payload = gunzip_bounded(payload, MAX_MESSAGE_BYTES)
            except LimitError:
                return
        elif len(payload) > MAX_MESSAGE_BYTES:
            return
        self.observe(gateway, payload.decode("utf-8", errors="replace").splitlines())

    async def run(self, writer: InfluxWriter, session: aiohttp.ClientSession) -> None:
        site = await self._serve_open_data()
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._feed(), name="alerts-feed")
                tasks.create_task(self._evaluate(writer, session), name="alerts-evaluate")
        finally:
            if site is not None:
                await site.cleanup()

    async def _serve_open_data(self) -> web.AppRunner | None:
        """The public hotspot feed (docs/open-data.md), when `open_data_listen` asks for it; a port
        already taken costs the feed, never the alerts."""
        if not self.conf.open_data_listen:
            return None
        host, port = split_host_port(self.conf.open_data_listen, any_port=True)
        app = application(self.hotspots, RateLimit(self.conf.open_data_requests_per_minute))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
        except OSError as exc:
            log.error("no open-data feed: cannot listen on %s: %s", self.conf.open_data_listen, exc)
            await runner.cleanup()
            return None
        self.open_data_port = runner.addresses[0][1]
        log.info("open-data feed on http://%s:%d/open-data/hotspots.geojson", host, self.open_data_port)
        return runner

    async def _feed(self) -> None:
        """The whole stream, non-shared, over a connection of its own; reconnected forever."""
        backoff, connected = Backoff(self.mqtt.reconnect_max_s), False
        while True:
            try:
                client = Client(
                    identifier=f"{self.mqtt.client_id}-alerts", clean_start=True, **client_options(self.mqtt)
                )
                async with client:
                    await client.subscribe(wire.ALL_DATA, qos=1)
                    await client.subscribe(wire.ALL_STATUS, qos=1)
                    connected = True
                    backoff.reset()
                    async for message in client.messages:
                        self._message(message)
            except aiomqtt.MqttError as exc:
                if connected:
                    log.warning("alert feed from %s lost: %s; reconnecting", self.mqtt.url, exc)
                connected = False
            await asyncio.sleep(backoff.next_s())

    def _message(self, message: aiomqtt.Message) -> None:
        topic = str(message.topic)
        payload = message.payload if isinstance(message.payload, bytes) else b""
        if topic.endswith(f"/{wire.STATUS}"):
            self.status_message(topic, payload)
        else:
            props: Any = message.properties
            self.data_message(topic, payload, str(getattr(props, "ContentType", "") or ""))

    async def _evaluate(self, writer: InfluxWriter, session: aiohttp.ClientSession) -> None:
        every_s = self.conf.evaluate_every_s
        url = self.conf.alertmanager_url
        client = AlertmanagerClient(url, session, every_s) if url else None
        while True:
            await asyncio.sleep(every_s - time.time() % every_s)
            changes = self.engine.tick()
            for alert in changes.fired:
                log.info("alert %s: %s", alert.label_map["alertname"], alert.summary)
            if client is not None:
                await client.send(self.engine.active(), changes.resolved, time.time())
            # On the period's multiple: every bridge writes the same point, the last one stays.
            period_ns = int(every_s * 1e9)
            points = self.engine.readings(changes, time.time_ns() // period_ns * period_ns)
            if points:
                with contextlib.suppress(WriteError):
                    await writer.write(encode_many(points))
