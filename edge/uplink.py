"""The MQTT uplink: drains the disk buffer to the broker in the wire format of docs/wire-format.md.

A batch is deleted from the buffer only after the broker's PUBACK *with a success reason code*; a
refusal (e.g. not authorized by the broker's ACL) keeps the batch, is logged once and counted, and the
uplink backs off and tries again, so a misconfigured ACL delays data instead of losing it. The
connection is retried forever with jittered exponential backoff; the broker holds a retained status
message for the gateway, which the Last Will turns to offline if the gateway vanishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import random
import time
from collections import deque
from dataclasses import dataclass, field

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.buffer import Batch, Buffer
from edge.config import UplinkSection
from edge.mqtt import Client, PublishRefused, client_options, properties

log = logging.getLogger(__name__)

WIRE_FORMAT_VERSION = "1"
CONTENT_TYPE = "text/plain; charset=utf-8"
CONTENT_TYPE_GZIP = "application/gzip"
BACKOFF_START_S = 0.5


def data_topic(gateway_id: str) -> str:
    return f"edge/{gateway_id}/data"


def status_topic(gateway_id: str) -> str:
    return f"edge/{gateway_id}/status"


def encode_batch(batch: Batch, use_gzip: bool) -> tuple[bytes, Properties]:
    """The MQTT payload and properties of one batch (the wire-format contract)."""
    body = ("\n".join(batch.lines) + "\n").encode()
    props = properties(PacketTypes.PUBLISH)
    if use_gzip:
        body = gzip.compress(body, compresslevel=6)
        props.ContentType = CONTENT_TYPE_GZIP
    else:
        props.ContentType = CONTENT_TYPE
        props.PayloadFormatIndicator = 1
    props.UserProperty = [("seq", str(batch.seq)), ("n", str(len(batch.lines))), ("v", WIRE_FORMAT_VERSION)]
    return body, props


@dataclass
class UplinkStats:
    # Monotonic time the broker connection was lost (or the uplink started); None while connected.
    down_since_s: float | None = field(default_factory=time.monotonic)
    published_readings: int = 0
    published_batches: int = 0
    refused_batches: int = 0
    connect_failures: int = 0

    @property
    def connected(self) -> bool:
        return self.down_since_s is None

    @connected.setter
    def connected(self, value: bool) -> None:
        if value:
            self.down_since_s = None
        elif self.down_since_s is None:
            self.down_since_s = time.monotonic()


class Uplink:
    """Owns the broker connection; the only reader of the buffer."""

    def __init__(self, conf: UplinkSection, gateway_id: str, buffer: Buffer, wakeup: asyncio.Event) -> None:
        self.conf = conf
        self.gateway_id = gateway_id
        self.buffer = buffer
        self.wakeup = wakeup
        self.stats = UplinkStats()
        self._backoff_s = BACKOFF_START_S
        self._status_refusal_logged = False
        self._refusal_logged = False
        self.acked = asyncio.Event()  # set at every acknowledged batch: room in the buffer again

    def _status(self, state: str) -> bytes:
        return json.dumps(
            {"gateway": self.gateway_id, "state": state, "time_s": round(time.time(), 3)}
        ).encode()

    def _client(self) -> Client:
        will = aiomqtt.Will(status_topic(self.gateway_id), self._status("offline"), qos=1, retain=True)
        return Client(
            identifier=self.gateway_id,
            will=will,
            logger=logging.getLogger("mqtt"),
            **client_options(self.conf),
        )

    async def run(self) -> None:
        """Connect, drain, and on any connection loss reconnect after a jittered backoff; forever."""
        while True:
            try:
                async with self._client() as client:
                    await self._publish_status(client, "online")
                    self.stats.connected = True
                    self._backoff_s = BACKOFF_START_S
                    log.info("uplink connected to %s", self.conf.url)
                    try:
                        await self._drain(client)
                    except asyncio.CancelledError:
                        # The Will is only sent on an unclean disconnect: on a clean one, say it ourselves.
                        # Whatever happens then, the cancellation must go on: never swallow it.
                        with contextlib.suppress(TimeoutError, aiomqtt.MqttError):
                            async with asyncio.timeout(2):
                                await self._publish_status(client, "offline")
                        raise
            except aiomqtt.MqttError as exc:
                self.stats.connect_failures += 1
                if self.stats.connected or self.stats.connect_failures == 1:
                    log.warning("uplink to %s down: %s; retrying with backoff", self.conf.url, exc)
            finally:
                self.stats.connected = False
                self.buffer.release_all()
            await self._sleep_backoff()

    async def _sleep_backoff(self) -> None:
        delay_s = random.uniform(self._backoff_s / 2, self._backoff_s)
        self._backoff_s = min(self._backoff_s * 2, self.conf.reconnect_max_s)
        await asyncio.sleep(delay_s)

    async def _drain(self, client: Client) -> None:
        """Keep up to `max_inflight_batches` publishes on the wire; settle them in order of sending.

        A backlog drains at the speed of the link instead of one round trip per batch; MQTT keeps the
        order of publishes on one connection, so the broker still sees the batches in order.
        """
        pending: deque[tuple[Batch, asyncio.Future[None]]] = deque()
        try:
            while True:
                while len(pending) < self.conf.max_inflight_batches:
                    batch = self.buffer.take(self.conf.batch_max_readings)
                    if batch is None:
                        break
                    payload, props = encode_batch(batch, self.conf.gzip)
                    topic = data_topic(self.gateway_id)
                    publish = client.publish_checked(topic, payload, qos=1, properties=props)
                    pending.append((batch, asyncio.ensure_future(publish)))
                if not pending:
                    self.wakeup.clear()
                    await self._idle(client)
                    continue
                batch, publishing = pending.popleft()
                await self._settle(batch, publishing)
        finally:
            for _, publishing in pending:
                if publishing.done() and not publishing.cancelled():
                    publishing.exception()  # retrieved: the connection loss is handled by run()
                publishing.cancel()

    async def _idle(self, client: Client) -> None:
        """Wait for new readings; raise at once if the connection is lost meanwhile."""
        readings = asyncio.ensure_future(self.wakeup.wait())
        lost = asyncio.ensure_future(client.connection_lost())
        try:
            done, _ = await asyncio.wait({readings, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            readings.cancel()
            lost.cancel()
        if lost in done:
            lost.result()  # raises the cause: run() reconnects
            raise aiomqtt.MqttError("disconnected")

    async def _settle(self, batch: Batch, publishing: asyncio.Future[None]) -> None:
        try:
            await publishing
        except PublishRefused as exc:
            self.buffer.release(batch.seq)
            self.stats.refused_batches += 1
            if not self._refusal_logged:
                log.error("%s; keeping the batch (seq %d) and retrying with backoff", exc, batch.seq)
                self._refusal_logged = True
            await self._sleep_backoff()
            return
        self.buffer.ack(batch.seq)
        self.acked.set()
        if self._refusal_logged:
            log.info("the broker accepts this gateway's publishes again")
            self._refusal_logged = False
        self._backoff_s = BACKOFF_START_S
        self.stats.published_batches += 1
        self.stats.published_readings += len(batch.lines)

    async def _publish_status(self, client: Client, state: str) -> None:
        """The retained status is for humans and alerts; a broker refusing it must not stop the data."""
        try:
            await client.publish_checked(
                status_topic(self.gateway_id), self._status(state), qos=1, retain=True
            )
        except PublishRefused as exc:
            if not self._status_refusal_logged:
                log.error("%s; the NOC will not see this gateway's status", exc)
                self._status_refusal_logged = True
