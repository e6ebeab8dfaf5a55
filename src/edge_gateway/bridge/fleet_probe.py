"""`edge fleet probe GATEWAY DEVICE`: ask a gateway to poll one of its devices once, and wait for its
answer ("is it the AP or the link?" without a site visit). MQTT 5 request/response: the request, signed
with the NOC's key, goes to `edge/{id}/probe/request` with a response topic and correlation data; the
answer comes on `edge/{id}/probe/response` with the same correlation data. src/edge_gateway/agent/
remote_probe.py is the gateway's end; docs/fleet.md the format.
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

from edge_gateway.bridge.fleet import _client
from edge_gateway.core import wire
from edge_gateway.core.mqtt import properties

EXPIRES_AFTER_S = 60.0


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
