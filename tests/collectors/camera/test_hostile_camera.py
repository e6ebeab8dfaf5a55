"""A camera that answers nonsense, an endless header or nothing at all costs one failed check with
its reason, never an exception out of the collector (a fake peer on loopback at the RTSP seam)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from edge_gateway.agent.collectors.camera.collector import CameraCollector
from edge_gateway.agent.collectors.camera.config import CameraDevice
from edge_gateway.agent.scheduler import Accumulator, SourceHealth

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def nonsense(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    await writer.drain()


async def endless_header(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"RTSP/1.0 200 OK\r\nX: " + b"a" * 200_000)
    await writer.drain()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # until the collector gives up and closes


@pytest.fixture
async def peer(request: pytest.FixtureRequest) -> AsyncIterator[int]:
    answer: Answer = request.param

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await answer(reader, writer)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


@pytest.mark.parametrize(
    ("peer", "reason"),
    [(nonsense, "not an RTSP response"), (endless_header, "Separator"), (silent, "deadline exceeded")],
    indirect=["peer"],
)
async def test_bad_peer_is_one_failed_check(peer: int, reason: str) -> None:
    device = CameraDevice(name="cam", rtsp_url=f"rtsp://127.0.0.1:{peer}/s", timeout_s=0.3, interval_s=5)
    acc = Accumulator(SourceHealth())
    await CameraCollector(device, "K", 300).collect(acc)
    camera, status = acc.readings
    assert camera.fields == {"up": True, "rtsp_ok": False, "latency_ms": camera.fields["latency_ms"]}
    assert status.fields["up"] is False and reason in str(status.fields["error"])
