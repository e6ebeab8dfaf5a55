"""The small HTTP server under the agent's page: its bounds and its answers to bad requests, over a real
socket on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest

from edge_gateway.agent import status_http
from edge_gateway.agent.status_http import HttpServer, Request, Response


async def hello(request: Request) -> Response:
    return Response.json({"path": request.path, "query": dict(request.query)})


async def broken(request: Request) -> Response:
    raise RuntimeError("a bug in one page")


def no_guard(request: Request) -> Response | None:
    return None


@contextlib.asynccontextmanager
async def serving(server: HttpServer) -> AsyncIterator[int]:
    """The server listening on a free loopback port, yielded; closed at the end."""
    listening = await server.start("127.0.0.1", 0)
    try:
        yield int(listening.sockets[0].getsockname()[1])
    finally:
        listening.close()
        server.close_connections()


async def exchange(port: int, raw: bytes) -> bytes:
    """Send raw bytes, read the answer until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def test_a_get_with_a_percent_encoded_query_is_routed_and_answered_once() -> None:
    async with serving(HttpServer({"/a b": hello}, no_guard)) as port:
        answer = await exchange(port, b"GET /a%20b?x=1+2&x=3&y HTTP/1.1\r\nHost: h\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close" in head and b"Content-Type: application/json; charset=utf-8" in head
    assert body == b'{"path": "/a b", "query": {"x": "1 2", "y": ""}}'


async def test_head_answers_without_a_body_and_other_methods_are_refused() -> None:
    async with serving(HttpServer({"/": hello}, no_guard)) as port:
        head = await exchange(port, b"HEAD / HTTP/1.1\r\n\r\n")
        post = await exchange(port, b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")
        missing = await exchange(port, b"GET /nope HTTP/1.1\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and head.endswith(b"\r\n\r\n")
    assert b"Content-Length: 26" in head  # the length of the GET's {"path": "/", "query": {}}, not sent
    assert post.startswith(b"HTTP/1.1 405 ") and b"Allow: GET, HEAD" in post
    assert missing.startswith(b"HTTP/1.1 404 ")


async def test_bad_heads_are_answered_and_counted() -> None:
    server = HttpServer({"/": hello}, no_guard)
    async with serving(server) as port:
        garbage = await exchange(port, b"\x16\x03\x01 hello\r\n\r\n")  # a TLS hello, say
        folded = await exchange(port, b"GET / HTTP/1.1\r\nX: a\r\n  folded\r\n\r\n")
        long_value = b"a" * status_http.MAX_HEAD_BYTES
        huge = await exchange(port, b"GET / HTTP/1.1\r\nX: " + long_value + b"\r\n\r\n")
        many = b"".join(b"X%d: y\r\n" % i for i in range(status_http.MAX_HEADERS + 1))
        too_many = await exchange(port, b"GET / HTTP/1.1\r\n" + many + b"\r\n")
        fine = await exchange(port, b"GET / HTTP/1.1\r\n\r\n")
    assert garbage.startswith(b"HTTP/1.1 400 ") and folded.startswith(b"HTTP/1.1 400 ")
    assert huge.startswith(b"HTTP/1.1 431 ") and too_many.startswith(b"HTTP/1.1 431 ")
    assert fine.startswith(b"HTTP/1.1 200 ")
    assert server.bad_requests == 4


async def test_a_client_that_never_finishes_its_head_is_closed() -> None:
    async with serving(HttpServer({"/": hello}, no_guard, head_timeout_s=0.2)) as port:
        answer = await exchange(port, b"GET / HTTP/1.1\r\nHost: h\r\n")  # no blank line, ever
    assert answer == b""


async def test_a_failing_page_is_a_500_and_the_server_goes_on() -> None:
    async with serving(HttpServer({"/": broken, "/ok": hello}, no_guard)) as port:
        failed = await exchange(port, b"GET / HTTP/1.1\r\n\r\n")
        fine = await exchange(port, b"GET /ok HTTP/1.1\r\n\r\n")
    assert failed.startswith(b"HTTP/1.1 500 ") and fine.startswith(b"HTTP/1.1 200 ")


async def test_connections_beyond_the_bound_are_closed_unserved() -> None:
    server = HttpServer({"/": hello}, no_guard)
    async with serving(server) as port:
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(status_http.MAX_CONNECTIONS)]
        async with asyncio.timeout(10):  # each is being served: its handler waits for a head
            while len(server.connections) < status_http.MAX_CONNECTIONS:
                await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await reader.read() == b""  # closed by the server, nothing read from it
        writer.close()
        for _, writer in idle:
            writer.close()
    assert server.refused_connections == 1


async def test_a_stop_ends_open_connections_quietly(caplog: pytest.LogCaptureFixture) -> None:
    """The agent's stop drops the page's open connections (one with half a head sent, one silent):
    they end by themselves and nothing is logged as an error (cancelling their tasks made Python 3.11
    log an "Exception in callback" traceback for each, at every stop)."""
    server = HttpServer({"/": hello}, no_guard)
    clients = []
    async with serving(server) as port:
        for raw in (b"GET / HTTP/1.1\r\n", b""):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            clients.append(writer)
        async with asyncio.timeout(10):
            while len(server.connections) < len(clients):
                await asyncio.sleep(0.01)
    async with asyncio.timeout(10):
        while server.connections:
            await asyncio.sleep(0.01)
    await asyncio.sleep(0)  # the connections' done callbacks run
    for writer in clients:
        writer.close()
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
