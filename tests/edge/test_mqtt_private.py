"""src/edge_gateway/core/mqtt.py leans on aiomqtt's private members; an aiomqtt upgrade that moves them
fails here first."""

from __future__ import annotations

import inspect

import aiomqtt

from edge_gateway.core.mqtt import Client


async def test_the_private_aiomqtt_members_edge_mqtt_uses_are_there() -> None:
    client = Client("127.0.0.1", 1, protocol=aiomqtt.ProtocolVersion.V5)
    for name in ("_client", "_pending_publishes", "_disconnected"):
        assert hasattr(client, name), name
    for name in ("_on_publish", "_pending_call"):
        assert callable(getattr(aiomqtt.Client, name)), name
    assert list(inspect.signature(aiomqtt.Client._on_publish).parameters) == [
        "self",
        "client",
        "userdata",
        "mid",
        "reason_code",
        "properties",
    ]
    assert hasattr(client._client, "manual_ack_set") and hasattr(client._client, "ack")
