"""MQTT helpers for tests: a subscriber that survives broker restarts, an uplink run as a task."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes

from edge_gateway.agent.uplink import Uplink
from edge_gateway.core.mqtt import properties


@dataclass
class Received:
    lines: list[str] = field(default_factory=list)  # in arrival order, duplicates included
    seqs: list[int] = field(default_factory=list)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)


async def _collect(host: str, port: int, topic: str, received: Received, options: dict[str, Any]) -> None:
    connect = properties(PacketTypes.CONNECT)
    connect.SessionExpiryInterval = 3600
    while True:
        try:
            async with aiomqtt.Client(
                host,
                port,
                identifier="test-checker",
                protocol=aiomqtt.ProtocolVersion.V5,
                clean_start=False,
                properties=connect,
                **options,
            ) as client:
                await client.subscribe(topic, qos=1)
                received.subscribed.set()
                async for message in client.messages:
                    if not isinstance(message.payload, bytes):
                        continue
                    user = dict(getattr(message.properties, "UserProperty", []) or [])
                    received.seqs.append(int(user.get("seq", -1)))
                    received.lines.extend(message.payload.decode().splitlines())
        except aiomqtt.MqttError:
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def checker(host: str, port: int, topic: str, **options: Any) -> AsyncIterator[Received]:
    received = Received()
    task = asyncio.create_task(_collect(host, port, topic, received, options))
    try:
        # Subscribed before the block starts: what is published from then on is seen (the session
        # persists, so a broker restart later loses nothing either).
        await asyncio.wait_for(received.subscribed.wait(), 20)
        yield received
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_until(condition: Callable[[], bool], timeout_s: float = 20, what: str = "") -> None:
    """Poll an observable state under a deadline; fail naming `what`."""
    try:
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}") from None


@contextlib.asynccontextmanager
async def running(uplink: Uplink) -> AsyncIterator[None]:
    """The uplink's run loop as a task for the block; cancelled (a clean shutdown) at its end."""
    task = asyncio.create_task(uplink.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
