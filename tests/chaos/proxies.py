"""Faults on the wire, made by the test: a TCP proxy that cuts or throttles a link, an HTTP proxy in front
of InfluxDB that counts what it stores and answers 500 or 429 on demand.

Both run in one background thread with its own event loop, so the tests stay plain synchronous code
that starts, kills and waits for processes. Only loopback is ever involved.

A *cut* link stops moving bytes in both directions without closing anything: no FIN, no RST, the
bytes wait as they would in TCP retransmissions while a radio link is down. Whoever gives up first
(a keepalive or a PUBACK timeout) closes its socket; the proxy notices only once the link is back, as
the peer would. New connections during a cut are accepted by the kernel but get no answer. A *dropped*
link is cut and its connections closed at once, the bytes on their way lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import ClientSession, web

from edge_gateway.core.lineproto import LineProtocolError, parse
from edge_gateway_dev.servers import LOOPBACK, free_port

T = TypeVar("T")
Key = tuple[str, tuple[tuple[str, str], ...], int]
CHUNK_BYTES = 16384
THROTTLED_CHUNK_BYTES = 512


def key_of(line: str) -> Key | None:
    """What InfluxDB identifies a point by: measurement, tag set and timestamp."""
    try:
        reading = parse(line)
    except LineProtocolError:
        return None
    return reading.measurement, tuple(sorted(reading.tags.items())), reading.time_ns


class Loop:
    """An event loop in a daemon thread, for the proxies."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="chaos-proxies", daemon=True)
        self.thread.start()

    def call(self, work: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout_s)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class TcpProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`upstream_port`; can cut the link or throttle it."""

    def __init__(self, loop: Loop, upstream_port: int) -> None:
        self.loop = loop
        self.upstream_port = upstream_port
        self.port = free_port()
        self.rate_bytes_per_s: float | None = None
        self.forwarded_bytes = 0
        self.connections = 0
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.loop.call(self._start())

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, LOOPBACK, self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await self._flowing.wait()  # during a cut, nothing reaches the far side, not even a SYN
        try:
            up_reader, up_writer = await asyncio.open_connection(LOOPBACK, self.upstream_port)
        except OSError:
            writer.close()
            return
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        self._tasks.update(pumps)
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:
            pump.cancel()
            self._tasks.discard(pump)
        for end in (writer, up_writer):
            end.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while True:
                await self._flowing.wait()
                rate = self.rate_bytes_per_s
                data = await reader.read(THROTTLED_CHUNK_BYTES if rate else CHUNK_BYTES)
                if not data:
                    return
                await self._flowing.wait()  # bytes read just before a cut wait for the link too
                if rate:
                    await asyncio.sleep(len(data) / rate)
                writer.write(data)
                await writer.drain()
                self.forwarded_bytes += len(data)

    def cut(self) -> None:
        self.loop.loop.call_soon_threadsafe(self._flowing.clear)

    def drop(self) -> None:
        """Cut the link and close every connection across it at once (FIN both ways): the bytes on their
        way through the proxy are lost (a PUBACK never reaches the agent, so its batch stays in the
        buffer); new connections wait for `heal`, as during a cut."""
        self.loop.call(self._drop())

    async def _drop(self) -> None:
        self._flowing.clear()
        for pump in list(self._tasks):
            pump.cancel()  # `_serve` then closes both ends

    def heal(self) -> None:
        self.loop.loop.call_soon_threadsafe(self._flowing.set)

    @contextlib.contextmanager
    def throttled(self, rate_bytes_per_s: float) -> Iterator[None]:
        self.rate_bytes_per_s = rate_bytes_per_s
        try:
            yield
        finally:
            self.rate_bytes_per_s = None

    def close(self) -> None:
        self.heal()

        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()

        self.loop.call(stop())


@dataclass
class Injection:
    """Answer the next `count` writes with `status` (and `Retry-After`) instead of storing them."""

    status: int
    count: int
    retry_after: str | None = None


class InfluxProxy:
    """HTTP proxy in front of InfluxDB: counts every point stored (duplicates included) and can answer
    writes with an error instead of passing them on."""

    def __init__(self, loop: Loop, upstream_url: str) -> None:
        self.loop = loop
        self.upstream_url = upstream_url.rstrip("/")
        self.port = free_port()
        self.written: Counter[Key] = Counter()
        self.injected = 0
        self.writes_in_progress = 0
        self.injection: Injection | None = None
        self.hold_s = 0.0  # delay before passing a write on: a slow database, for kills "mid-batch"
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self.loop.call(self._start())

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    async def _start(self) -> None:
        self._session = ClientSession()
        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, LOOPBACK, self.port).start()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        is_write = request.method == "POST" and request.path in ("/write", "/api/v2/write")
        if is_write and self.injection is not None and self.injection.count > 0:
            injection = self.injection
            injection.count -= 1
            self.injected += 1
            headers = {"Retry-After": injection.retry_after} if injection.retry_after else {}
            return web.Response(
                status=injection.status, text='{"error":"injected by the test"}', headers=headers
            )
        if is_write:
            self.writes_in_progress += 1
        try:
            if is_write and self.hold_s:
                await asyncio.sleep(self.hold_s)
            return await self._pass_on(request, body, is_write)
        finally:
            if is_write:
                self.writes_in_progress -= 1

    async def _pass_on(self, request: web.Request, body: bytes, is_write: bool) -> web.Response:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        try:
            async with self._session.request(
                request.method,
                self.upstream_url + request.path,
                params=request.query,
                data=body,
                headers=headers,
            ) as answer:
                text = await answer.read()
                status = answer.status
                passed = {
                    k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "retry-after")
                }
        except OSError:
            return web.Response(status=502, text="InfluxDB unreachable")
        if is_write and status < 300:
            if request.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            for line in body.decode().splitlines():
                key = key_of(line)
                if key is not None:
                    self.written[key] += 1
        return web.Response(status=status, body=text, headers=passed)

    def points_written(self) -> Counter[Key]:
        """How often each point was stored, duplicates included (a copy taken in the proxies' thread)."""

        async def copy() -> Counter[Key]:
            return Counter(self.written)

        return self.loop.call(copy())

    def inject(self, status: int, count: int, retry_after: str | None = None) -> None:
        self.injection = Injection(status, count, retry_after)

    def close(self) -> None:
        async def stop() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
            if self._session is not None:
                await self._session.close()

        self.loop.call(stop())
