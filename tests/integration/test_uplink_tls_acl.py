"""The uplink over TLS with a password per gateway and the per-gateway roles of deploy/mosquitto/."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import ssl
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from edge_gateway.agent.buffer import Buffer
from edge_gateway.agent.config import UplinkSection
from edge_gateway.agent.uplink import Uplink
from edge_gateway.core.validation import validate
from edge_gateway_dev import servers
from tests.integration.mqtt_checker import checker, running, wait_until
from tests.integration.shipped_broker import shipped_broker
from tests.integration.tls import TlsFiles

pytestmark = pytest.mark.integration

SHARED_DATA = "$share/edge-bridge/edge/+/data"  # the bridge's role may subscribe to this only (and statuses)
LINES = [f"ap,device=ap-{i} up=true {i}" for i in range(1, 4)]


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[servers.Server, TlsFiles]]:
    """Mosquitto as shipped in deploy/mosquitto/: TLS, an identity per gateway, the bridge's role."""
    with shipped_broker(tmp_path, ("gw-a", "gw-b"), ("edge-bridge",)) as broker:
        yield broker.server, broker.tls


def readings_on_disk(path: Path) -> int:
    """The readings the buffer's file holds, read on a connection of its own, read-only."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        (count,) = db.execute("SELECT count(*) FROM readings").fetchone()
    return int(count)


def uplink_conf(server: servers.Server, tls: TlsFiles, user: str, tmp_path: Path) -> UplinkSection:
    (tmp_path / f"{user}.pw").write_text(f"{user}-pw\n")
    return validate(
        UplinkSection,
        {
            "url": f"mqtts://{server.host}:{server.port}",
            "ca_file": tls.ca_cert,
            "username": user,
            "password_file": tmp_path / f"{user}.pw",
        },
    )


async def test_gateway_publishes_its_own_topic_over_tls(
    tmp_path: Path, tls_broker: tuple[servers.Server, TlsFiles]
) -> None:
    server, tls = tls_broker
    buffer = Buffer(tmp_path / "a.db", 1 << 20)
    buffer.put(LINES)
    uplink = Uplink(uplink_conf(server, tls, "gw-a", tmp_path), "gw-a", buffer, asyncio.Event())
    context = ssl.create_default_context(cafile=str(tls.ca_cert))
    reader = {"username": "edge-bridge", "password": "edge-bridge-pw", "tls_context": context}
    async with checker(server.host, server.port, SHARED_DATA, **reader) as got, running(uplink):
        await wait_until(lambda: len(got.lines) >= len(LINES), 20, "the batch at the reader")
        # Seen by the reader is not yet acknowledged to the gateway: wait for the buffer itself.
        await wait_until(lambda: readings_on_disk(tmp_path / "a.db") == 0, 20, "the PUBACK: an empty buffer")
    assert got.lines == LINES
    assert buffer.stats().readings == 0
    buffer.close()


async def test_a_gateway_cannot_publish_as_another_and_keeps_its_data(
    tmp_path: Path, tls_broker: tuple[servers.Server, TlsFiles], caplog: pytest.LogCaptureFixture
) -> None:
    server, tls = tls_broker
    buffer = Buffer(tmp_path / "b.db", 1 << 20)
    buffer.put(LINES)
    # Credentials of gw-b, but configured as gateway gw-a: the broker refuses the client id gw-a to
    # gw-b's login (its topics would be edge/gw-a/..., not its own).
    uplink = Uplink(uplink_conf(server, tls, "gw-b", tmp_path), "gw-a", buffer, asyncio.Event())
    async with running(uplink):
        await wait_until(lambda: uplink.stats.connect_failures >= 2, 20, "refusals")
    assert buffer.stats().readings == len(LINES)
    assert uplink.stats.published_readings == 0
    assert any("Not authorized" in record.getMessage() for record in caplog.records)
    buffer.close()


async def test_wrong_password_is_retried_not_fatal(
    tmp_path: Path, tls_broker: tuple[servers.Server, TlsFiles]
) -> None:
    server, tls = tls_broker
    buffer = Buffer(tmp_path / "c.db", 1 << 20)
    buffer.put(LINES)
    conf = replace(uplink_conf(server, tls, "gw-a", tmp_path), password=None)
    uplink = Uplink(conf, "gw-a", buffer, asyncio.Event())
    async with running(uplink):
        await wait_until(lambda: uplink.stats.connect_failures >= 2, 20, "connection refusals")
    assert buffer.stats().readings == len(LINES)
    buffer.close()
