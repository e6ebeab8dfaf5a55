"""The bridge: consumes gateway batches from MQTT and stores them in InfluxDB, acknowledging each
message to the broker only once its points are stored (manual acknowledgement, MQTT 5 persistent
session, shared subscription so several bridges split the load).

A database that is down blocks the stream (nothing is acknowledged, the broker keeps the messages);
a message that is bad is dead-lettered with its reason and acknowledged, so one bad message cannot
block the stream forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
from paho.mqtt.packettypes import PacketTypes

from bridge.influx import InfluxWriter, WriteError, create_database
from bridge.ingest import Accounts, MessageError, decode_message
from edge.config import BridgeConfig
from edge.lineproto import encode_many
from edge.mqtt import Client, client_options, properties

log = logging.getLogger(__name__)

RETRY_START_S = 0.5
RETRY_MAX_S = 30.0


class DeadLetters:
    """An append-only JSON-lines file of what could not be stored, and why, for a human to look at."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path

    def add(self, topic: str, reason: str, payload: str) -> None:
        record = {"time_s": round(time.time(), 3), "topic": topic, "reason": reason, "payload": payload}
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(record) + "\n")


def _user_properties(message: aiomqtt.Message) -> tuple[dict[str, str], str]:
    props: Any = message.properties
    pairs = getattr(props, "UserProperty", None) or []
    return {str(key): str(value) for key, value in pairs}, str(getattr(props, "ContentType", "") or "")


class Bridge:
    def __init__(self, config: BridgeConfig) -> None:
        self.config = config
        self.accounts = Accounts()
        self.dead_letters = DeadLetters(config.bridge.dead_letter_path)
        self.connected = False

    async def run(self) -> None:
        async with aiohttp.ClientSession() as session:
            writer = InfluxWriter(self.config.influxdb, session)
            if self.config.influxdb.api == "v1" and self.config.influxdb.database:
                await self._retry(
                    lambda: create_database(self.config.influxdb.url, writer.params["db"], session)
                )
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._consume(writer), name="mqtt")
                tasks.create_task(self._report_health(writer), name="ingest-health")

    async def _retry(self, action: Any) -> None:
        """Retry a database action until it works, honouring Retry-After; a bad request is raised."""
        delay_s = RETRY_START_S
        while True:
            try:
                await action()
                return
            except WriteError as exc:
                if not exc.retryable:
                    raise
                log.warning("InfluxDB unavailable (%s); retrying", exc)
                await asyncio.sleep(exc.retry_after_s or random.uniform(delay_s / 2, delay_s))
                delay_s = min(delay_s * 2, RETRY_MAX_S)

    def _client(self) -> Client:
        mqtt = self.config.mqtt
        props = properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = mqtt.session_expiry_s
        client = Client(
            identifier=mqtt.client_id,
            clean_start=False,
            properties=props,
            max_queued_incoming_messages=10_000,
            **client_options(mqtt),
        )
        client.enable_manual_ack()
        return client

    async def _consume(self, writer: InfluxWriter) -> None:
        mqtt = self.config.mqtt
        delay_s = RETRY_START_S
        while True:
            try:
                async with self._client() as client:
                    await client.subscribe(f"$share/{mqtt.share_group}/edge/+/data", qos=1)
                    self.connected = True
                    delay_s = RETRY_START_S
                    log.info("bridge subscribed on %s as %s", mqtt.url, mqtt.client_id)
                    async for message in client.messages:
                        await self._handle(message, writer)
                        client.ack(message)
            except aiomqtt.MqttError as exc:
                if self.connected:
                    log.warning("broker connection lost: %s; reconnecting", exc)
                self.connected = False
            await asyncio.sleep(random.uniform(delay_s / 2, delay_s))
            delay_s = min(delay_s * 2, RETRY_MAX_S)

    async def _handle(self, message: aiomqtt.Message, writer: InfluxWriter) -> None:
        topic = str(message.topic)
        payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
        properties, content_type = _user_properties(message)
        try:
            decoded = decode_message(topic, payload, properties, content_type)
        except MessageError as exc:
            self.accounts.malformed_messages += 1
            log.warning("dead-lettered a message on %s: %s", topic, exc)
            self.dead_letters.add(topic, str(exc), payload.decode("utf-8", errors="backslashreplace"))
            return
        for line, reason in decoded.bad_lines:
            self.dead_letters.add(topic, reason, line)
        if decoded.lines:
            try:
                await self._retry(lambda: writer.write(decoded.lines))
            except WriteError as exc:
                log.warning("InfluxDB rejected batch seq %d of %s: %s", decoded.seq, decoded.gateway, exc)
                self.dead_letters.add(topic, str(exc), "\n".join(decoded.lines))
                self.accounts.of(decoded.gateway).dead_letters += len(decoded.lines)
                decoded = type(decoded)(decoded.gateway, decoded.seq, [], decoded.bad_lines, 0)
        self.accounts.of(decoded.gateway).record(decoded)

    async def _report_health(self, writer: InfluxWriter) -> None:
        interval_s = self.config.bridge.health_interval_s
        while True:
            await asyncio.sleep(interval_s)
            readings = self.accounts.readings(self.config.mqtt.client_id, time.time_ns())
            if readings:
                with contextlib.suppress(WriteError):
                    await writer.write(encode_many(readings))


async def run_until_signalled(config: BridgeConfig) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await Bridge(config).run()
    log.info("bridge stopped")
