"""The MQTT uplink: drains the disk buffer to the broker in the wire format of docs/wire-format.md.

A batch is deleted from the buffer only after a PUBACK that says a subscriber will get it: reason code
0x00. 0x10 "no matching subscribers" is a success code in MQTT 5, but the batch would reach nobody (a
broker that forgot the bridge's shared subscription across a restart says exactly that): the batch is
kept, counted and retried, unless `accept_no_subscribers` says this deployment has no consumer on
purpose. A failure code (0x80 and above, e.g. 0x87 not authorized by the broker's ACL) keeps the batch
too, so a misconfigured ACL delays data instead of losing it. While batches are not delivered, one batch
at a time probes the broker with a growing pause; the first delivery ends the episode. Each kind of
non-delivery is logged once per episode. docs/wire-format.md lists every reason code.

The connection is retried forever with jittered exponential backoff; the broker holds a retained status
message for the gateway, which the Last Will turns to offline if the gateway vanishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge_gateway.agent.buffer import Batch, Buffer, DiskFull
from edge_gateway.agent.config import UplinkSection
from edge_gateway.core import wire
from edge_gateway.core.backoff import Backoff
from edge_gateway.core.mqtt import (
    NO_MATCHING_SUBSCRIBERS,
    QUOTA_EXCEEDED,
    Client,
    PublishRefused,
    client_options,
    properties,
)

log = logging.getLogger(__name__)

# A refusal by the broker (ACL, bad topic) lasts until someone changes a configuration: probing more
# often than this would resend a whole batch over a possibly metered link for nothing.
REFUSED_RETRY_MAX_S = 60.0


def encode_batch(batch: Batch, use_gzip: bool) -> tuple[bytes, Properties]:
    """The MQTT payload and properties of one batch (the wire-format contract)."""
    body = ("\n".join(batch.lines) + "\n").encode()
    props = properties(PacketTypes.PUBLISH)
    if use_gzip:
        body = gzip.compress(body, compresslevel=6)
        props.ContentType = wire.CONTENT_TYPE_GZIP
    else:
        props.ContentType = wire.CONTENT_TYPE_LINES
        props.PayloadFormatIndicator = 1
    props.UserProperty = [
        (wire.PROP_SEQ, str(batch.seq)),
        (wire.PROP_COUNT, str(len(batch.lines))),
        (wire.PROP_VERSION, wire.FORMAT_VERSION),
    ]
    return body, props


@dataclass
class UplinkStats:
    # Monotonic time the broker connection was lost (or the uplink started); None while connected.
    down_since_s: float | None = field(default_factory=time.monotonic)
    published_readings: int = 0
    published_batches: int = 0
    refused_batches: int = 0  # PUBACK with a failure code: kept and retried
    undelivered_batches: int = 0  # PUBACK 0x10, nobody subscribed: kept and retried
    connects: int = 0
    connect_failures: int = 0
    # Why the connected broker does not take the batches now (PUBACK 0x10, a refusal); "" while it does.
    delivery_problem: str = ""

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
        self._reconnect = Backoff(conf.reconnect_max_s)
        self._retry = Backoff(conf.reconnect_max_s)
        self._status_refusal_logged = False
        self._episode: str | None = None  # what keeps batches from being delivered, logged once
        self._disk_full_logged = False
        self.acked = asyncio.Event()  # set at every acknowledged batch: room in the buffer again
        # Remote configuration (src/edge_gateway/agent/remote_config.py): messages on the gateway's own
        # config topic go
        # to `on_config`; `status_extra` adds the inventory and the last outcome to the retained status.
        self.on_config: Callable[[bytes], Awaitable[None]] | None = None
        # Remote probes (src/edge_gateway/agent/remote_probe.py): a request on the gateway's own probe
        # topic is answered on its own response topic with the request's correlation data.
        self.on_probe: Callable[[bytes], Awaitable[bytes]] | None = None
        self.status_extra: Callable[[], dict[str, object]] | None = None
        self._connection: Client | None = None

    def _status(self, state: str) -> bytes:
        status: dict[str, object] = {
            "gateway": self.gateway_id,
            "state": state,
            "time_s": round(time.time(), 3),
        }
        if self.status_extra is not None and state == wire.ONLINE:
            status |= self.status_extra()
        return json.dumps(status).encode()

    def _client(self) -> Client:
        will = aiomqtt.Will(
            wire.status_topic(self.gateway_id), self._status(wire.OFFLINE), qos=1, retain=True
        )
        return Client(
            identifier=self.gateway_id,
            will=will,
            logger=logging.getLogger("mqtt"),
            **client_options(self.conf),
        )

    async def run(self) -> None:
        """Connect, drain, and on any connection loss reconnect after a jittered backoff; forever.

        The backoff doubles from 0.5 s up to `reconnect_max_s` (5 s by default) and starts again at
        every successful connect. The cap is what bounds the recovery after an outage: the broker is
        found at most one cap after it is back (a 60 s cap made that wait most of the recovery). It
        still does not hammer: a failed attempt costs one refused TCP connect (or one connect timeout
        when the network is gone, which spaces attempts by itself), and the jitter (a delay drawn
        between half the backoff and the whole of it) spreads a city's gateways when the broker returns.
        """
        while True:
            listener: asyncio.Task[None] | None = None
            try:
                async with self._client() as client:
                    await self._publish_status(client, wire.ONLINE)
                    self.stats.connected = True
                    self.stats.connects += 1
                    self._reconnect.reset()
                    log.info("uplink connected to %s", self.conf.url)
                    listener = await self._listen(client)
                    self._connection = client
                    try:
                        await self._drain(client)
                    except asyncio.CancelledError:
                        # The Will (`offline`) is only sent on an unclean disconnect; a clean one is a
                        # planned stop (`stopped`), which pages nobody (docs/alerts.md).
                        # Whatever happens then, the cancellation must go on: never swallow it.
                        with contextlib.suppress(TimeoutError, aiomqtt.MqttError):
                            async with asyncio.timeout(2):
                                await self._publish_status(client, wire.STOPPED)
                        raise
            except aiomqtt.MqttError as exc:
                self.stats.connect_failures += 1
                if self.stats.connected or self.stats.connect_failures == 1:
                    log.warning("uplink to %s down: %s; retrying with backoff", self.conf.url, exc)
            finally:
                self.stats.connected = False
                self._connection = None
                if listener is not None:
                    listener.cancel()
                self.buffer.release_all()
            await asyncio.sleep(self._reconnect.next_s())

    async def _drain(self, client: Client) -> None:
        """Keep up to `max_inflight_batches` publishes on the wire; settle them in order of sending.

        A backlog drains at the speed of the link instead of one round trip per batch; MQTT keeps the
        order of publishes on one connection, so the broker still sees the batches in order. While
        batches are not delivered (an episode), what is on the wire settles, then one batch at a time
        probes the broker after a pause that doubles up to its cap.
        """
        pending: deque[tuple[Batch, asyncio.Future[int]]] = deque()
        pause = False
        try:
            while True:
                if pause and not pending:
                    await asyncio.sleep(self._next_retry_s())
                    pause = False
                window = 1 if self._episode else self.conf.max_inflight_batches
                while not pause and len(pending) < window:
                    try:
                        batch = self.buffer.take(self.conf.batch_max_readings)
                    except DiskFull as exc:
                        self._disk_full(exc)
                        pause = True
                        break
                    if batch is None:
                        break
                    payload, props = encode_batch(batch, self.conf.gzip)
                    topic = wire.data_topic(self.gateway_id)
                    publish = client.publish_checked(
                        topic, payload, qos=1, properties=props, timeout_s=self.conf.puback_timeout_s
                    )
                    pending.append((batch, asyncio.ensure_future(publish)))
                if not pending and not pause:
                    self.wakeup.clear()
                    await self._idle(client)
                    continue
                if pending:
                    batch, publishing = pending.popleft()
                    pause = not await self._settle(batch, publishing) or pause
        finally:
            for _, publishing in pending:
                if publishing.done() and not publishing.cancelled():
                    publishing.exception()  # retrieved: the connection loss is handled by run()
                publishing.cancel()

    def _next_retry_s(self) -> float:
        cap_s = self.conf.reconnect_max_s if self._episode != "refused" else REFUSED_RETRY_MAX_S
        return self._retry.next_s(cap_s)

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

    async def _settle(self, batch: Batch, publishing: asyncio.Future[int]) -> bool:
        """Ack a delivered batch, keep an undelivered one; True when delivered."""
        try:
            reason = await publishing
        except PublishRefused as exc:
            self.stats.refused_batches += 1
            kind = "quota" if exc.reason.value == QUOTA_EXCEEDED else "refused"
            return self._keep(batch, kind, str(exc), "retrying")
        if reason == NO_MATCHING_SUBSCRIBERS and not self.conf.accept_no_subscribers:
            self.stats.undelivered_batches += 1
            problem = f"the broker has no subscriber for {wire.data_topic(self.gateway_id)} (PUBACK 0x10)"
            return self._keep(batch, "no-subscribers", problem, "retrying until the bridge subscribes")
        try:
            self.buffer.ack(batch.seq)
        except DiskFull as exc:
            self.buffer.release(batch.seq)  # delivered but not deleted: sent again later, a duplicate
            self._disk_full(exc)
            return False
        if self._disk_full_logged:
            log.info("the buffer's disk has room for the uplink again")
            self._disk_full_logged = False
        self.acked.set()
        if self._episode:
            log.info("the broker delivers this gateway's batches again (after: %s)", self._episode)
            self._episode = None
        self.stats.delivery_problem = ""
        self._retry.reset()
        self.stats.published_batches += 1
        self.stats.published_readings += len(batch.lines)
        return True

    def _disk_full(self, exc: DiskFull) -> None:
        """The buffer cannot record or delete a batch: logged once; the drain pauses and tries again."""
        if not self._disk_full_logged:
            log.error("%s: the uplink cannot record or delete batches; retrying", exc)
            self._disk_full_logged = True

    def _keep(self, batch: Batch, kind: str, problem: str, then: str) -> bool:
        self.buffer.release(batch.seq)
        self.stats.delivery_problem = problem
        if self._episode != kind:
            why = f"{problem}: keeping the batch (seq {batch.seq}) and {then}"
            log.log(logging.WARNING if kind == "no-subscribers" else logging.ERROR, "%s", why)
            self._episode = kind
        return False

    async def _listen(self, client: Client) -> asyncio.Task[None] | None:
        """Subscribe to this gateway's own config topic (the broker's ACL allows no other) and hand each
        message to `on_config`; the retained one arrives at every connect, which the version check makes
        harmless."""
        if self.on_config is None:
            return None
        on_config = self.on_config
        await client.subscribe(wire.config_topic(self.gateway_id), qos=1)
        if self.on_probe is not None:
            await client.subscribe(wire.probe_request_topic(self.gateway_id), qos=1)

        async def handle(config: bytes) -> None:
            try:
                await on_config(config)
            except Exception:  # a bug or a full disk there must not end the listening
                log.exception("remote config message not handled; the running config stays")

        # Each config message is handled by its own task, so a probe request is read while a config
        # is checked; the agent's config lock takes them in the order they arrived.
        handling: set[asyncio.Task[None]] = set()

        async def listen() -> None:
            async for message in client.messages:
                payload = message.payload
                if str(message.topic) == wire.probe_request_topic(self.gateway_id):
                    self._answer_probe(client, message)
                    continue
                config = payload if isinstance(payload, bytes) else str(payload).encode()
                task = asyncio.create_task(handle(config), name="config-message")
                handling.add(task)
                task.add_done_callback(handling.discard)

        return asyncio.create_task(listen(), name="config-listener")

    def _answer_probe(self, client: Client, message: aiomqtt.Message) -> None:
        """Run the probe as its own task (the config listener goes on); the answer goes to this
        gateway's own response topic, whatever the request named: the ACL allows no other."""
        on_probe, payload = self.on_probe, message.payload
        if on_probe is None or not isinstance(payload, bytes):
            return
        correlation = getattr(message.properties, "CorrelationData", None)

        async def answer() -> None:
            props = properties(PacketTypes.PUBLISH)
            if correlation is not None:
                props.CorrelationData = correlation
            body = await on_probe(payload)
            await client.publish(wire.probe_response_topic(self.gateway_id), body, qos=1, properties=props)

        task = asyncio.create_task(answer(), name="probe-answer")
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    def refresh_status(self) -> None:
        """Publish the retained status again now (a remote config outcome), when connected."""
        client = self._connection
        if client is not None:
            task = asyncio.create_task(self._publish_status(client, wire.ONLINE), name="status-refresh")
            task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _publish_status(self, client: Client, state: str) -> None:
        """The retained status is for humans and alerts; a broker refusing it must not stop the data.

        A status retained with nobody subscribed (0x10) is fine: the broker keeps it for whoever comes.
        """
        try:
            await client.publish_checked(
                wire.status_topic(self.gateway_id),
                self._status(state),
                qos=1,
                retain=True,
                timeout_s=self.conf.puback_timeout_s,
            )
        except PublishRefused as exc:
            if not self._status_refusal_logged:
                log.error("%s; the NOC will not see this gateway's status", exc)
                self._status_refusal_logged = True
