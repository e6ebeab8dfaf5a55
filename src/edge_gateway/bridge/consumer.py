"""The bridge: consumes gateway batches from MQTT and stores them in InfluxDB, acknowledging each
message to the broker only once its points are stored (manual acknowledgement, MQTT 5 persistent
session, shared subscription so several bridges split the load).

Per connection the reader decodes messages into a `Batcher`, a timer closes a batch that waited
`flush_interval_s`, and `max_inflight_writes` writers each store one batch at a time (while the
reader already fills the next) and then acknowledge its messages. A database that is down blocks the
writers (nothing is acknowledged; once `receive_maximum` messages are unacknowledged the broker stops sending
and keeps the rest in the bridge's session). A bad message or line is dead-lettered with its reason
and acknowledged, so bad input never blocks the stream. When the connection drops, batches not yet
stored are simply dropped: the broker sends their messages again when the session resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import signal
import time
from typing import Any

import aiohttp
import aiomqtt
from aiohttp.web import AppRunner
from paho.mqtt.packettypes import PacketTypes

from edge_gateway.alerts.rules import Rule
from edge_gateway.bridge import web
from edge_gateway.bridge.accounting import Accounts
from edge_gateway.bridge.alert_runner import AlertRunner
from edge_gateway.bridge.batching import Batch, Batcher
from edge_gateway.bridge.config import BridgeConfig
from edge_gateway.bridge.deadletters import DeadLetters, Limits
from edge_gateway.bridge.fleet import FleetWatch
from edge_gateway.bridge.influx import InfluxWriter, WriteError, create_database
from edge_gateway.bridge.intake import Intake
from edge_gateway.bridge.quarantine import Quarantine
from edge_gateway.bridge.store import Store
from edge_gateway.core import wire
from edge_gateway.core.backoff import Backoff
from edge_gateway.core.config import redact_url
from edge_gateway.core.lineproto import encode_many
from edge_gateway.core.mqtt import Client, client_options, properties

log = logging.getLogger(__name__)

ALERTS_RESTART_MAX_S = 60.0
WRITES_QUEUED = 1  # closed batches waiting for a free writer: one is enough to keep them busy


class Bridge:
    def __init__(self, config: BridgeConfig, rules: list[Rule] | None = None) -> None:
        self.config = config
        self.alerts = (
            AlertRunner(config.alerts, rules, config.mqtt) if config.alerts.enabled and rules else None
        )
        self.accounts = Accounts()
        conf = config.bridge
        limits = Limits(
            conf.dead_letter_max_bytes, conf.dead_letter_files, conf.dead_letter_payload_max_bytes
        )
        self.dead_letters = DeadLetters(conf.dead_letter_path, limits)
        self.quarantine = Quarantine(conf.quarantine_after, conf.quarantine_window_s, conf.quarantine_s)
        self.intake = Intake(conf, self.accounts, self.dead_letters, self.quarantine)
        self.connected = False
        self.pending_points = 0
        self.store: Store | None = None
        self.http_port: int | None = None
        self.fleet = FleetWatch(config.mqtt, f"{config.mqtt.client_id}-fleet", config.fleet)

    async def run(self) -> None:
        conf = self.config
        async with aiohttp.ClientSession() as session:
            writer = InfluxWriter(conf.influxdb, session)
            self.store = Store(
                writer, conf.bridge.retry_max_s, max_refused_requests=conf.bridge.max_refused_requests
            )
            status = web.Status(
                conf.mqtt.client_id,
                self.accounts,
                self.store.stats,
                lambda: self.connected,
                lambda: self.pending_points,
                self.dead_letters,
                lambda: self.quarantine.gateways(time.monotonic()),
                self.fleet,
            )
            runner = await self._serve_pages(status)
            try:
                if conf.influxdb.api == "v1" and conf.influxdb.database:
                    await self._create_database(session, conf.influxdb.database)
                async with asyncio.TaskGroup() as tasks:
                    tasks.create_task(self._consume(self.store), name="mqtt")
                    tasks.create_task(self._report_health(writer), name="ingest-health")
                    tasks.create_task(self.fleet.run(), name="fleet")
                    if self.alerts is not None:
                        tasks.create_task(self._run_alerts(self.alerts, writer, session), name="alerts")
            finally:
                if runner is not None:
                    await runner.cleanup()

    async def _run_alerts(
        self, alerts: AlertRunner, writer: InfluxWriter, session: aiohttp.ClientSession
    ) -> None:
        """The alert engine never takes ingest down with it: an error it did not handle (a hostile
        status message, a bug) is logged and the engine restarted after a growing pause."""
        backoff = Backoff(ALERTS_RESTART_MAX_S)
        for attempt in itertools.count():
            try:
                await alerts.run(writer, session)
                return
            except Exception as exc:
                wait_s = backoff.next_s()
                if attempt == 0:
                    log.exception("alert engine failed; restarting it (ingest goes on)")
                else:
                    log.warning("alert engine failed again (%s); restarting it in %.1f s", exc, wait_s)
            await asyncio.sleep(wait_s)

    async def _serve_pages(self, status: web.Status) -> AppRunner | None:
        """Start /metrics and /healthz; a port already taken costs the pages, never the data."""
        host, port = self.config.bridge.address
        try:
            runner, self.http_port = await web.start(status, host, port)
        except OSError as exc:
            log.error("no /metrics and /healthz: cannot listen on %s:%d: %s", host, port, exc)
            return None
        log.info("bridge pages on http://%s:%d/metrics", host, self.http_port)
        return runner

    async def _create_database(self, session: aiohttp.ClientSession, database: str) -> None:
        """Create the v1 database if missing; a user not allowed to is fine if it exists already."""
        conf = self.config.influxdb
        password = conf.password.get_secret_value() if conf.password else None
        backoff = Backoff(self.config.bridge.retry_max_s)
        for attempt in itertools.count():
            try:
                await create_database(conf.url, database, session, conf.username, password)
                return
            except WriteError as exc:
                if not exc.retryable:
                    log.warning("%s; assuming the database exists", exc)
                    return
                if attempt == 0:
                    log.warning("InfluxDB not ready (%s); retrying until it is", exc)
            await asyncio.sleep(backoff.next_s())

    def _client(self) -> Client:
        mqtt = self.config.mqtt
        props = properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = mqtt.session_expiry_s
        props.ReceiveMaximum = mqtt.receive_maximum
        client = Client(
            identifier=mqtt.client_id,
            clean_start=False,
            properties=props,
            max_queued_incoming_messages=0,  # unbounded here; the broker bounds it by receive_maximum
            **client_options(mqtt),
        )
        client.enable_manual_ack()
        return client

    async def _consume(self, store: Store) -> None:
        mqtt = self.config.mqtt
        backoff = Backoff(mqtt.reconnect_max_s)
        failures = 0
        while True:
            try:
                async with self._client() as client:
                    # Alerts have their own non-shared feed of the whole stream
                    # (src/edge_gateway/bridge/alert_runner.py).
                    await _subscribe(client, wire.shared_data_subscription(mqtt.share_group))
                    self.connected = True
                    failures = 0
                    backoff.reset()
                    log.info("bridge subscribed on %s as %s", redact_url(mqtt.url), mqtt.client_id)
                    await self._session(client, store)
            except* aiomqtt.MqttError as group:
                failures += 1
                if self.connected or failures == 1:
                    log.warning("broker %s: %s; reconnecting", redact_url(mqtt.url), group.exceptions[0])
            finally:
                self.connected = False
                self.pending_points = 0
            await asyncio.sleep(backoff.next_s())

    async def _session(self, client: Client, store: Store) -> None:
        bridge = self.config.bridge
        # Unacknowledged messages: the batch being filled, the queued ones and the one being written.
        writers = bridge.max_inflight_writes
        max_messages = max(1, self.config.mqtt.receive_maximum // (1 + WRITES_QUEUED + writers))
        batcher: Batcher[aiomqtt.Message] = Batcher(
            bridge.batch_max_points, max_messages, bridge.flush_interval_s
        )
        queue: asyncio.Queue[Batch[aiomqtt.Message]] = asyncio.Queue(maxsize=WRITES_QUEUED)
        async with asyncio.TaskGroup() as tasks:
            for index in range(writers):
                tasks.create_task(self._write_batches(client, store, queue), name=f"influx-writer-{index}")
            tasks.create_task(self._flush_when_due(batcher, queue), name="flush-timer")
            async for message in client.messages:
                decoded = self.intake.decode(message)
                if decoded is None:
                    client.ack(message)
                    continue
                self.pending_points += len(decoded.lines)
                batch = batcher.add(message, decoded)
                if batch is not None:
                    await queue.put(batch)

    async def _flush_when_due(self, batcher: Batcher[Any], queue: asyncio.Queue[Batch[Any]]) -> None:
        while True:
            await asyncio.sleep(batcher.flush_interval_s / 4)
            batch = batcher.due()
            if batch is not None:
                await queue.put(batch)

    async def _write_batches(
        self, client: Client, store: Store, queue: asyncio.Queue[Batch[aiomqtt.Message]]
    ) -> None:
        while True:
            batch = await queue.get()
            reasons = dict(await store.store(batch.lines))
            now_ns = time.time_ns()
            for message, decoded in batch.entries:
                refused = (
                    [(reasons[line], line) for line in decoded.lines if line in reasons] if reasons else []
                )
                if refused:
                    self.intake.refused(message, decoded, refused)
                client.ack(message)
                account = self.accounts.of(decoded.gateway)
                account.record(decoded.seq, len(decoded.lines) - len(refused), decoded.newest_time_ns, now_ns)
            self.pending_points -= len(batch.lines)

    async def _report_health(self, writer: InfluxWriter) -> None:
        """The `ingest` measurement; best effort, since it describes the very writes that may fail."""
        interval_s = self.config.bridge.health_interval_s
        while True:
            await asyncio.sleep(interval_s)
            readings = self.accounts.readings(self.config.mqtt.client_id, time.time_ns())
            if readings:
                with contextlib.suppress(WriteError):
                    await writer.write(encode_many(readings))


async def _subscribe(client: Client, topic: str) -> None:
    """Subscribe at QoS 1, on every connection; MqttError if the broker refuses (aiomqtt only returns
    the SUBACK codes: a refused subscription would otherwise look like a quiet fleet)."""
    for code in await client.subscribe(topic, qos=1):
        refused = code > 2 if isinstance(code, int) else code.is_failure
        if refused:
            raise aiomqtt.MqttError(f"the broker refused the subscription to {topic}: {code}")


async def run_until_signalled(config: BridgeConfig, rules: list[Rule] | None = None) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await Bridge(config, rules).run()
    log.info("bridge stopped")
