"""`edge fleet probe GATEWAY DEVICE`: ask a gateway to probe one of its devices (SNMP, camera, serial), and
wait for its answer ("is it the AP or the link?" without a site visit). MQTT 5 request/response: the
request, signed with the NOC's key, goes to `edge/{id}/probe/request` with a response topic and
correlation data; the answer comes on `edge/{id}/probe/response` with the same correlation data.
src/edge_gateway/agent/remote_probe.py is the gateway's end; docs/fleet.md the format.

A gateway verifies requests with the NOC's public key of its `[remote_config]` section and, without
that section enabled, does not listen for them at all; its retained `online` status then lacks the
remote-config fields (`config_refused`, ...), so the NOC says that at once instead of waiting for
an answer that cannot come.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.packettypes import PacketTypes

from edge_gateway.bridge.fleet import _client, parse_status
from edge_gateway.core import wire
from edge_gateway.core.mqtt import properties

EXPIRES_AFTER_S = 60.0
STATUS_WAIT_S = 3.0  # the broker sends a retained status right after the subscription


def not_listening(gateway: str, status: dict[str, Any] | None) -> str | None:
    """Why `gateway` cannot take probes, from its retained status; None when it can (or is unknown)."""
    if status is None or status.get("state") != wire.ONLINE or "config_refused" in status:
        return None  # only an online status carries the inventory; config_refused: remote config on
    return (
        f"{gateway} takes no remote probes: [remote_config] is not enabled in its config "
        "(the section holds the NOC's public key that requests are checked with; docs/fleet.md)"
    )


async def retained_status(conn: Any, gateway: str) -> dict[str, Any] | None:
    """`gateway`'s retained status, or None when the broker holds none."""
    async with _client(conn, f"edge-fleet-probe-status-{time.monotonic_ns()}") as client:
        await client.subscribe(wire.status_topic(gateway), qos=1)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STATUS_WAIT_S):
                async for message in client.messages:
                    return parse_status(str(message.topic), message.payload)[1]
    return None


def sign_probe(key: Ed25519PrivateKey, target: str, device: str, expires_s: float) -> bytes:
    """The signed request: the same envelope as a config, a body of kind `probe`."""
    body = json.dumps(
        {
            "format": wire.CONFIG_FORMAT_VERSION,
            "kind": "probe",
            "target": target,
            "device": device,
            "expires_s": expires_s,
        },
        sort_keys=True,
    ).encode()
    envelope = {"body": base64.b64encode(body).decode(), "sig": base64.b64encode(key.sign(body)).decode()}
    return json.dumps(envelope).encode()


async def ask(conn: Any, gateway: str, request: bytes, wait_s: float) -> dict[str, Any] | None:
    """Publish `request` to `gateway` and return its answer (JSON), or None after `wait_s`."""
    correlation = secrets.token_bytes(16)
    response_topic = wire.probe_response_topic(gateway)
    async with _client(conn, f"edge-fleet-probe-{time.monotonic_ns()}") as client:
        await client.subscribe(response_topic, qos=1)
        props = properties(PacketTypes.PUBLISH)
        props.ResponseTopic = response_topic
        props.CorrelationData = correlation
        await client.publish(wire.probe_request_topic(gateway), request, qos=1, properties=props)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                async for message in client.messages:
                    if getattr(message.properties, "CorrelationData", None) != correlation:
                        continue  # another NOC operator's answer
                    payload = message.payload
                    with contextlib.suppress(ValueError):
                        answer = json.loads(payload if isinstance(payload, bytes) else str(payload))
                        return answer if isinstance(answer, dict) else {"ok": False, "error": "not an object"}
                    return {"ok": False, "error": "answer is not JSON"}
    return None
