"""aiomqtt, plus what it leaves out: PUBACK reason codes, a PUBACK wait without a hidden timeout,
manual acknowledgement.

aiomqtt awaits a QoS 1 PUBACK but drops its MQTT 5 reason code, so a broker that answers "not
authorized" (0x87) or "no matching subscribers" (0x10) looks like a plain success and the batch would
be deleted. `Client.publish_checked` returns the reason code (and raises on a failure code) so the
uplink decides what a delivery is. aiomqtt's own `publish` also bounds the wait by the client's
`timeout` (10 s by default): on a slow link a late PUBACK would be taken for a lost connection.
`publish_checked` waits for the PUBACK, the loss of the connection or an explicit `timeout_s`,
whichever comes first. The bridge needs the opposite direction: acknowledge a received message only
after its points are stored (`enable_manual_ack`, `ack`).

This is the only module that touches aiomqtt's private members, each marked `# aiomqtt private`;
they are checked by tests/edge/test_mqtt_private.py, and pyproject.toml pins aiomqtt to the minor
version tested (2.5): `_client` (the paho client), `_on_publish`, `_pending_call`,
`_pending_publishes`, `_disconnected`.
"""

from __future__ import annotations

import asyncio
import ssl
from types import TracebackType
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge_gateway.core.config import MqttConnection

SUCCESS = 0x00
NO_MATCHING_SUBSCRIBERS = 0x10
QUOTA_EXCEEDED = 0x97
# How long a stop (a cancelled task leaving the client's block) waits for the DISCONNECT to be written.
STOP_DISCONNECT_TIMEOUT_S = 2.0


class PublishRefused(Exception):
    """The broker answered a PUBLISH with a failure reason code (e.g. 0x87 not authorized)."""

    def __init__(self, topic: str, reason: ReasonCode) -> None:
        super().__init__(f"broker refused publish to {topic}: {reason} (0x{reason.value:02x})")
        self.reason = reason


class PubackTimeout(aiomqtt.MqttError):
    """No PUBACK within the configured `puback_timeout_s`: the connection is treated as lost."""


class Client(aiomqtt.Client):
    """An aiomqtt client that keeps each PUBACK's reason code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reasons: dict[int, ReasonCode] = {}

    def _on_publish(  # aiomqtt private: the paho callback aiomqtt registers
        self, client: paho.Client, userdata: Any, mid: int, reason_code: ReasonCode, properties: Properties
    ) -> None:
        self._reasons[mid] = reason_code
        super()._on_publish(client, userdata, mid, reason_code, properties)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Disconnect, and mark the cause of a lost connection as seen.

        aiomqtt stores the cause of an unexpected disconnection in a future that nobody awaits when the
        loss was noticed elsewhere (a failed publish); asyncio would then log "Future exception was
        never retrieved" when the client is collected, after every reconnect and at shutdown.

        A stop (the block left by a cancellation) stays a stop: when the broker reads nothing (frozen,
        or a link gone without FIN, with the socket's send buffer full) the DISCONNECT cannot be
        written and aiomqtt's wait for it ends, after the client's whole `timeout`, in an MqttError.
        That error used to replace the cancellation: the agent's uplink took it for a lost connection
        and reconnected, and the agent never stopped on SIGTERM. The wait is cut to
        STOP_DISCONNECT_TIMEOUT_S and its failure dropped (the broker then sends the Will).
        """
        stopping = isinstance(exc, asyncio.CancelledError)
        if stopping:
            self.timeout = min(self.timeout, STOP_DISCONNECT_TIMEOUT_S)
        try:
            await super().__aexit__(exc_type, exc, tb)
        except aiomqtt.MqttError:
            if not stopping:
                raise
        finally:
            disconnected = self._disconnected  # aiomqtt private: the connection-lost future
            if disconnected.done() and not disconnected.cancelled():
                disconnected.exception()

    async def publish_checked(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int,
        retain: bool = False,
        properties: Properties | None = None,
        timeout_s: float | None = None,
    ) -> int:
        """Publish and wait for the broker's acknowledgement; return its reason code (0 for QoS 0).

        Raises PublishRefused on a failure code (0x80 and above), PubackTimeout when `timeout_s` (None:
        no limit) passes first, and aiomqtt.MqttError when the connection is lost while waiting.
        """
        info = self._client.publish(topic, payload, qos, retain, properties)  # aiomqtt private: paho
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise aiomqtt.MqttCodeError(info.rc, "Could not publish message")
        if not info.is_published():
            confirmation = asyncio.Event()
            # aiomqtt private: the registry its _on_publish sets the event from
            with self._pending_call(info.mid, confirmation, self._pending_publishes):
                await self._acknowledged(confirmation, timeout_s)
        reason = self._reasons.pop(info.mid, None)
        if reason is not None and reason.is_failure:
            raise PublishRefused(topic, reason)
        return SUCCESS if reason is None else int(reason.value)

    async def _acknowledged(self, confirmation: asyncio.Event, timeout_s: float | None) -> None:
        acked = asyncio.ensure_future(confirmation.wait())
        lost = asyncio.ensure_future(self.connection_lost())
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.wait({acked, lost}, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError as exc:
            raise PubackTimeout(f"no PUBACK within {timeout_s} s") from exc
        finally:
            acked.cancel()
            lost.cancel()
        if not acked.done() or acked.cancelled():
            if lost.done() and not lost.cancelled() and lost.exception() is not None:
                raise aiomqtt.MqttError("connection lost while waiting for a PUBACK") from lost.exception()
            raise aiomqtt.MqttError("connection closed while waiting for a PUBACK")

    async def connection_lost(self) -> None:
        """Return, raising the cause, once the connection is gone.

        aiomqtt only notices a lost connection at the next call; an uplink with nothing to send
        would think itself connected for as long as it is idle.
        """
        await asyncio.shield(self._disconnected)  # aiomqtt private: the connection-lost future

    def enable_manual_ack(self) -> None:
        """Messages are acknowledged by `ack`, not on receipt; call before connecting."""
        self._client.manual_ack_set(True)  # aiomqtt private: paho

    def ack(self, message: aiomqtt.Message) -> None:
        self._client.ack(message.mid, message.qos)  # aiomqtt private: paho


def properties(packet_type: int) -> Properties:
    """Empty MQTT 5 properties for a packet type (paho's constructor is untyped)."""
    return Properties(packet_type)  # type: ignore[no-untyped-call]


def tls_context(conn: MqttConnection) -> ssl.SSLContext | None:
    if not conn.tls:
        return None
    context = ssl.create_default_context(cafile=str(conn.ca_file) if conn.ca_file else None)
    if conn.cert_file:
        context.load_cert_chain(str(conn.cert_file), str(conn.key_file) if conn.key_file else None)
    return context


def client_options(conn: MqttConnection) -> dict[str, Any]:
    """Keyword arguments for `Client` common to the agent and the bridge."""
    return {
        "hostname": conn.host,
        "port": conn.port,
        "username": conn.username,
        "password": conn.password.get_secret_value() if conn.password else None,
        "protocol": aiomqtt.ProtocolVersion.V5,
        "keepalive": conn.keepalive_s,
        "timeout": conn.connect_timeout_s,
        "tls_context": tls_context(conn),
    }
