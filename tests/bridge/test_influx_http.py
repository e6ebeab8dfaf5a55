"""The writer's HTTP handling against a small aiohttp server on loopback that answers as told."""

from __future__ import annotations

import asyncio
import base64
import email.utils
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from edge_gateway.bridge.config import InfluxSection
from edge_gateway.bridge.influx import InfluxWriter, WriteError, create_database, parse_retry_after, redact
from edge_gateway.core.config import Secret


@dataclass
class Peer:
    url: str
    answers: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    seen: list[tuple[str, dict[str, str], dict[str, str], str]] = field(default_factory=list)


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    state = Peer("")

    async def write(request: web.Request) -> web.Response:
        state.seen.append((request.path, dict(request.query), dict(request.headers), await request.text()))
        status, headers, body = state.answers.pop(0) if state.answers else (204, {}, "")
        return web.Response(status=status, headers=headers, text=body or None)

    app = web.Application()
    app.router.add_post("/write", write)
    app.router.add_post("/api/v2/write", write)
    app.router.add_post("/query", write)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield state
    await runner.cleanup()


async def test_v1_request_gzipped_with_database_and_credentials(peer: Peer) -> None:
    conf = InfluxSection(
        url=peer.url,
        api="v1",
        database="edge",
        retention_policy="week",
        username="u",
        password=Secret("pw"),
        gzip=True,
    )
    async with aiohttp.ClientSession() as session:
        await InfluxWriter(conf, session).write(["m x=1i 1", "m x=2i 2"])
    path, query, headers, body = peer.seen[0]
    assert path == "/write"
    assert query == {"db": "edge", "rp": "week", "precision": "ns"}  # no credentials in the URL
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"u:pw").decode()
    assert headers["Content-Encoding"] == "gzip"
    assert body == "m x=1i 1\nm x=2i 2\n"  # the server inflated it


async def test_v2_request_with_token_uncompressed(peer: Peer) -> None:
    conf = InfluxSection(url=peer.url, api="v2", org="o", bucket="b", token=Secret("t0k"))
    async with aiohttp.ClientSession() as session:
        await InfluxWriter(conf, session).write(["m x=1i 1"])
    path, query, headers, body = peer.seen[0]
    assert (path, query) == ("/api/v2/write", {"org": "o", "bucket": "b", "precision": "ns"})
    assert headers["Authorization"] == "Token t0k" and "Content-Encoding" not in headers
    assert body == "m x=1i 1\n"


@pytest.mark.parametrize(
    ("status", "headers", "retryable", "retry_after_s"),
    [
        (429, {"Retry-After": "3"}, True, 3.0),
        (503, {}, True, None),
        (500, {"Retry-After": "soon"}, True, None),
        (400, {}, False, None),
        (413, {}, False, None),
        (401, {}, True, None),  # a wrong password: keep the data, retry
        (404, {}, True, None),  # database not found: same
    ],
)
async def test_status_codes_decide_retry_or_refusal(
    peer: Peer, status: int, headers: dict[str, str], retryable: bool, retry_after_s: float | None
) -> None:
    peer.answers.append((status, headers, "partial write: field type conflict dropped=1"))
    conf = InfluxSection(url=peer.url, api="v1", database="edge")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(WriteError) as caught:
            await InfluxWriter(conf, session).write(["m x=1i 1"])
    assert caught.value.retryable is retryable
    assert caught.value.retry_after_s == retry_after_s
    assert caught.value.status == status and "field type conflict" in str(caught.value)


async def test_a_missing_retention_policy_is_not_the_datas_fault(peer: Peer) -> None:
    peer.answers.append((400, {}, '{"error":"retention policy not found: week"}'))
    conf = InfluxSection(url=peer.url, api="v1", database="edge", retention_policy="week")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(WriteError) as caught:
            await InfluxWriter(conf, session).write(["m x=1i 1"])
    assert caught.value.retryable and caught.value.status == 400


async def test_a_timeout_is_retryable() -> None:
    release = asyncio.Event()

    async def slow(_: web.Request) -> web.Response:
        await release.wait()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/write", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    conf = InfluxSection(url=f"http://127.0.0.1:{runner.addresses[0][1]}", database="edge", timeout_s=0.2)
    try:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(WriteError) as caught:
                await InfluxWriter(conf, session).write(["m x=1i 1"])
        assert caught.value.retryable and caught.value.status is None
    finally:
        release.set()
        await runner.cleanup()


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 1.5 ") == 1.5
    now_s = 1_700_000_000.0
    assert parse_retry_after(email.utils.formatdate(now_s + 30, usegmt=True), now_s=now_s) == 30.0
    assert parse_retry_after(email.utils.formatdate(now_s - 30, usegmt=True), now_s=now_s) == 0.0
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("1e9") == 3600.0
    assert parse_retry_after("") is None and parse_retry_after("later") is None
    assert parse_retry_after("nan") is None


@pytest.mark.parametrize(("status", "retryable"), [(403, False), (401, False), (500, True)])
async def test_create_database_with_credentials_says_whether_to_retry(
    peer: Peer, status: int, retryable: bool
) -> None:
    async with aiohttp.ClientSession() as session:
        await create_database(peer.url, "edge", session, "admin", "pw")
        peer.answers.append((status, {}, "not allowed"))
        with pytest.raises(WriteError) as caught:
            await create_database(peer.url, "edge", session)
    path, query, headers, body = peer.seen[0]
    assert (path, query) == ("/query", {})
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"admin:pw").decode()
    assert body == "q=CREATE+DATABASE+%22edge%22"
    assert caught.value.retryable is retryable and caught.value.status == status


SECRET = "pw-marker-5f1c"


@pytest.mark.parametrize("reply", [b"garbage, not HTTP\r\n\r\n", b"HTTP/1.1 abc\r\n\r\n", b""])
async def test_no_password_in_the_error_of_a_reply_that_is_not_http(reply: bytes) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    conf = InfluxSection(url=url, api="v1", database="edge", username="u", password=Secret(SECRET))
    try:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(WriteError) as caught:
                await InfluxWriter(conf, session).write(["m x=1i 1"])
            with pytest.raises(WriteError) as created:
                await create_database(url, "edge", session, "u", SECRET)
    finally:
        server.close()
    for error in (caught.value, created.value):
        assert error.retryable and SECRET not in str(error) and SECRET not in repr(error.__cause__)


def test_redact_hides_url_passwords_and_secret_parameters() -> None:
    text = f"URL('http://h:1/write?db=e&u=a&p={SECRET}&precision=ns') mqtt://gw:{SECRET}@broker:8883"
    assert SECRET not in redact(text)
    assert "u=a" in redact(text) and "mqtt://gw:***@broker:8883" in redact(text)
