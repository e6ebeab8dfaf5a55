"""aiomqtt, plus what it leaves out: the PUBACK reason code and manual acknowledgement.

aiomqtt awaits a QoS 1 PUBACK but drops its MQTT 5 reason code, so a broker that answers "not
authorized" (0x87) looks like a success and the batch would be deleted. `Client.publish_checked`
returns the reason code so the uplink can keep the batch and report the refusal. The bridge needs the
opposite direction: acknowledge a received message only after its points are stored
(`enable_manual_ack`, `ack`).
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.config import MqttConnection


class PublishRefused(Exception):
    """The broker answered a PUBLISH with a failure reason code (e.g. 0x87 not authorized)."""

    def __init__(self, topic: str, reason: ReasonCode) -> None:
        super().__init__(f"broker refused publish to {topic}: {reason} (0x{reason.value:02x})")
        self.reason = reason


class Client(aiomqtt.Client):
    """An aiomqtt client that keeps each PUBACK's reason code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reasons: dict[int, ReasonCode] = {}

    def _on_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason_code: ReasonCode, properties: Properties
    ) -> None:
        self._reasons[mid] = reason_code
        super()._on_publish(client, userdata, mid, reason_code, properties)

    async def publish_checked(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int,
        retain: bool = False,
        properties: Properties | None = None,
    ) -> None:
        """Publish and wait for the broker's acknowledgement; raise PublishRefused on a failure code."""
        info = self._client.publish(topic, payload, qos, retain, properties)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise aiomqtt.MqttCodeError(info.rc, "Could not publish message")
        if not info.is_published():
            confirmation = asyncio.Event()
            with self._pending_call(info.mid, confirmation, self._pending_publishes):
                await self._wait_for(confirmation.wait(), timeout=None)
        reason = self._reasons.pop(info.mid, None)
        if reason is not None and reason.is_failure:
            raise PublishRefused(topic, reason)

    async def connection_lost(self) -> None:
        """Return, raising the cause, once the connection is gone.

        aiomqtt only notices a lost connection at the next call; an uplink with nothing to send
        would think itself connected for as long as it is idle, and the cause would be logged as
        'Future exception was never retrieved' when the client is collected.
        """
        await asyncio.shield(self._disconnected)

    def enable_manual_ack(self) -> None:
        """Messages are acknowledged by `ack`, not on receipt; call before connecting."""
        self._client.manual_ack_set(True)

    def ack(self, message: aiomqtt.Message) -> None:
        self._client.ack(message.mid, message.qos)


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
