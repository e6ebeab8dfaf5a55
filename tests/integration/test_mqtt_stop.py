"""A stop stays a stop when the broker reads nothing (src/edge_gateway/core/mqtt.py, Client.__aexit__).

The agent's uplink and the bridge stop by cancellation (SIGTERM); their client's block then sends a
DISCONNECT. With a frozen broker and a full socket send buffer that write never completes, aiomqtt's
wait for it ended in an MqttError that replaced the cancellation: the uplink reconnected instead of
stopping, and the agent never exited.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket

import aiomqtt
import pytest

from edge_gateway.core.mqtt import Client
from edge_gateway_dev import servers

pytestmark = pytest.mark.integration

PAYLOAD_BYTES = 16 * 1024 * 1024  # far more than a stopped broker's receive and our send buffer hold
STOP_DEADLINE_S = 30.0  # only bounds a broken run; the outcome asserted is how the task ends


async def test_a_cancelled_client_stops_while_its_broker_reads_nothing(mosquitto: servers.Server) -> None:
    publishing = asyncio.Event()

    async def publish_until_cancelled() -> None:
        small_send_buffer = [(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)]
        options = {"protocol": aiomqtt.ProtocolVersion.V5, "socket_options": small_send_buffer}
        async with Client(mosquitto.host, mosquitto.port, timeout=5, **options) as client:
            os.kill(mosquitto.process.pid, signal.SIGSTOP)
            publishing.set()
            await client.publish("edge/test/big", b"x" * PAYLOAD_BYTES, qos=0, timeout=float("inf"))

    task = asyncio.create_task(publish_until_cancelled())
    try:
        await publishing.wait()
        task.cancel()
        async with asyncio.timeout(STOP_DEADLINE_S):
            await asyncio.wait({task})
    finally:
        os.kill(mosquitto.process.pid, signal.SIGCONT)
    assert task.cancelled(), f"the stop ended as {task.exception()!r}, not as a cancellation"
