"""The small HTTP/1.1 server under the agent's page (src/edge_gateway/agent/status.py).

Why not aiohttp.web: it cost the agent 11 MB of resident memory (113 modules) to serve four GET
routes to a technician and a Prometheus scraper. This serves exactly that and is bounded: a request
line and headers of at most MAX_HEAD_BYTES read within HEAD_TIMEOUT_S, at most MAX_CONNECTIONS at a
time (one more is closed at once), the answer written within WRITE_TIMEOUT_S, one request per
connection (`Connection: close`). GET and HEAD only; a request body is never read. A bad request is
answered 400 (431 for a head too large), counted and logged once; a handler's error is a 500 and
logged, never the end of the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 8192
MAX_HEADERS = 64
HEAD_TIMEOUT_S = 10.0
WRITE_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 16
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-decoded
    query: Mapping[str, str]  # the first value of each name
    headers: Mapping[str, str]  # names in lower case; the first of a repeated header


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = TEXT
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def text(cls, status: int, text: str, content_type: str = TEXT) -> Response:
        return cls(status, text.encode(), content_type)

    @classmethod
    def json(cls, value: Any) -> Response:
        return cls(200, json.dumps(value).encode(), "application/json; charset=utf-8")


Handler = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status


def parse_head(head: bytes) -> Request:
    """The request line and headers (without the blank line), or BadRequest."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1].startswith("/"):
        raise BadRequest(400, f"bad request line {lines[0][:80]!r}")
    if len(lines) - 1 > MAX_HEADERS:
        raise BadRequest(431, f"more than {MAX_HEADERS} headers")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise BadRequest(400, f"bad header line {line[:80]!r}")
        headers.setdefault(name.lower(), value.strip())
    target = urlsplit(parts[1])
    query: dict[str, str] = {}
    for key, value in parse_qsl(target.query, keep_blank_values=True):
        query.setdefault(key, value)
    return Request(parts[0], unquote(target.path), query, headers)


def _encode(response: Response, head_only: bool) -> bytes:
    lines = [
        f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in response.headers),
    ]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + response.body


class HttpServer:
    """Routes GET (and HEAD) requests by path; `guard` answers first (a 401) or lets the request on."""

    def __init__(
        self,
        routes: Mapping[str, Handler],
        guard: Callable[[Request], Response | None],
        head_timeout_s: float = HEAD_TIMEOUT_S,
    ) -> None:
        self.routes, self.guard, self.head_timeout_s = routes, guard, head_timeout_s
        self.connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self.bad_requests = 0
        self.refused_connections = 0

    async def start(self, host: str, port: int) -> asyncio.Server:
        return await asyncio.start_server(self._connection, host, port, limit=MAX_HEAD_BYTES)

    def close_connections(self) -> None:
        """Drop every open connection; each handler then ends by itself on the lost connection.

        Not by cancelling their tasks: Python 3.11's asyncio.start_server logs a cancelled connection
        task as an "Exception in callback" with a traceback, at every stop with a page client connected.
        """
        for writer in self.connections.values():
            writer.transport.abort()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # a connection always runs in its own task
        try:
            if len(self.connections) >= MAX_CONNECTIONS:
                self.refused_connections += 1  # closed unanswered: an answer would wait on its reader
                return
            self.connections[task] = writer
            await self._serve_one(reader, writer)
        except (OSError, TimeoutError):
            pass  # the client went away or stalled: nothing to answer
        finally:
            self.connections.pop(task, None)
            writer.close()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self.head_timeout_s):
                head = await reader.readuntil(b"\r\n\r\n")
            request = parse_head(head[:-4])
        except asyncio.IncompleteReadError:
            return  # closed before a whole head: nothing to answer
        except asyncio.LimitOverrunError:
            await self._bad(writer, BadRequest(431, f"head over {MAX_HEAD_BYTES} bytes"))
            return
        except BadRequest as exc:
            await self._bad(writer, exc)
            return
        response = await self._respond(request)
        await self._send(writer, response, head_only=request.method == "HEAD")

    async def _respond(self, request: Request) -> Response:
        refused = self.guard(request)
        if refused is not None:
            return refused
        handler = self.routes.get(request.path)
        if handler is None:
            return Response.text(404, "not found\n")
        if request.method not in ("GET", "HEAD"):
            return Response(405, b"method not allowed\n", TEXT, (("Allow", "GET, HEAD"),))
        try:
            return await handler(request)
        except Exception:  # a bug in one page must not stop the server: said in the log, answered 500
            log.exception("status page: %s %s failed", request.method, request.path)
            return Response.text(500, "internal error\n")

    async def _bad(self, writer: asyncio.StreamWriter, exc: BadRequest) -> None:
        self.bad_requests += 1
        if self.bad_requests == 1:
            log.warning("status page: bad request (%s); later ones are only counted", exc)
        await self._send(writer, Response.text(exc.status, f"{exc}\n"), head_only=False)

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, response: Response, head_only: bool) -> None:
        writer.write(_encode(response, head_only))
        async with asyncio.timeout(WRITE_TIMEOUT_S):
            await writer.drain()
