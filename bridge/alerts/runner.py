"""The alert engine inside the bridge: what it observes, how often it judges, where alerts go.

Lines are parsed only for measurements some rule looks at, so the bulk of the stream (interface
counters) costs a prefix lookup. Status messages (`edge/<id>/status`, retained, the Last Will) say
when a gateway is offline. Every `evaluate_every_s` the engine judges absence, active alerts go to
Alertmanager (re-sent each time, so a dead bridge's alerts expire) and to InfluxDB as `alerts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterable

import aiohttp

from bridge.alerts.alertmanager import AlertmanagerClient
from bridge.alerts.engine import Engine
from bridge.alerts.rules import Rule
from bridge.influx import InfluxWriter, WriteError
from edge.config import AlertsSection
from edge.lineproto import LineProtocolError, encode_many, parse

log = logging.getLogger(__name__)

STATUS_TOPIC = "edge/+/status"


class AlertRunner:
    def __init__(self, conf: AlertsSection, rules: list[Rule]) -> None:
        self.conf = conf
        self.engine = Engine(rules, max_age_s=conf.max_age_s)
        self._measurements = tuple(sorted({f"{r.measurement}," for r in rules if r.measurement}))

    def observe(self, gateway: str, lines: Iterable[str]) -> None:
        readings = []
        for line in lines:
            if line.startswith(self._measurements):
                with contextlib.suppress(LineProtocolError):  # it was stored: the bridge checked it
                    readings.append(parse(line))
        if readings:
            self.engine.observe(gateway, readings)

    def status_message(self, topic: str, payload: bytes) -> None:
        """`edge/<id>/status` JSON from the agent (online/offline) or its Last Will (offline)."""
        parts = topic.split("/")
        try:
            state = json.loads(payload).get("state") if payload else None
        except (ValueError, AttributeError):
            state = None
        if len(parts) == 3 and state in ("online", "offline"):
            self.engine.gateway_status(parts[1], online=state == "online")

    async def run(self, writer: InfluxWriter, session: aiohttp.ClientSession) -> None:
        url = self.conf.alertmanager_url
        client = AlertmanagerClient(url, session, self.conf.evaluate_every_s) if url else None
        while True:
            await asyncio.sleep(self.conf.evaluate_every_s)
            changes = self.engine.tick()
            for alert in changes.fired:
                log.info("alert %s: %s", alert.label_map["alertname"], alert.summary)
            if client is not None:
                await client.send(self.engine.active(), changes.resolved, time.time())
            points = self.engine.readings(changes, time.time_ns())
            if points:
                with contextlib.suppress(WriteError):
                    await writer.write(encode_many(points))
