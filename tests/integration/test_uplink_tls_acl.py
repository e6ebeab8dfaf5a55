"""The uplink over TLS with a password per gateway and the per-gateway ACL of deploy/mosquitto/."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge import servers
from edge.buffer import Buffer
from edge.config import UplinkSection
from edge.uplink import Uplink
from tests.integration.mqtt_checker import checker, running, wait_until
from tests.integration.tls import TlsFiles, make_tls_files

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
LINES = [f"ap,device=ap-{i} up=true {i}" for i in range(1, 4)]


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[servers.Server, TlsFiles]]:
    """Mosquitto with TLS, passwords and the ACL shipped in deploy/mosquitto/acl."""
    tls = make_tls_files(tmp_path / "certs")
    passwd = tmp_path / "passwd"
    passwd.touch()
    for user in ("gw-a", "gw-b", "edge-bridge"):
        subprocess.run(
            [servers.find_binary("mosquitto_passwd"), "-b", str(passwd), user, f"{user}-pw"], check=True
        )
    shutil.copy(DEPLOY / "acl", tmp_path / "acl")
    extra = (
        f"allow_anonymous false\npassword_file {passwd}\nacl_file {tmp_path / 'acl'}\n"
        f"cafile {tls.ca_cert}\ncertfile {tls.server_cert}\nkeyfile {tls.server_key}\n"
    )
    with servers.mosquitto(tmp_path / "mosquitto", extra_config=extra) as server:
        yield server, tls


def uplink_conf(server: servers.Server, tls: TlsFiles, user: str, tmp_path: Path) -> UplinkSection:
    (tmp_path / f"{user}.pw").write_text(f"{user}-pw\n")
    return UplinkSection(
        url=f"mqtts://{server.host}:{server.port}",
        ca_file=tls.ca_cert,
        username=user,
        password_file=tmp_path / f"{user}.pw",
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
    async with checker(server.host, server.port, "edge/gw-a/data", **reader) as got, running(uplink):
        await wait_until(lambda: len(got.lines) >= len(LINES), 20, "the batch at the reader")
    assert got.lines == LINES
    assert buffer.stats().readings == 0
    buffer.close()


async def test_a_gateway_cannot_publish_as_another_and_keeps_its_data(
    tmp_path: Path, tls_broker: tuple[servers.Server, TlsFiles], caplog: pytest.LogCaptureFixture
) -> None:
    server, tls = tls_broker
    buffer = Buffer(tmp_path / "b.db", 1 << 20)
    buffer.put(LINES)
    # Credentials of gw-b, but configured as gateway gw-a: its topics are edge/gw-a/..., not its own.
    uplink = Uplink(uplink_conf(server, tls, "gw-b", tmp_path), "gw-a", buffer, asyncio.Event())
    async with running(uplink):
        await wait_until(lambda: uplink.stats.refused_batches >= 2, 20, "refusals")
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
    conf = uplink_conf(server, tls, "gw-a", tmp_path).model_copy(update={"password": None})
    uplink = Uplink(conf, "gw-a", buffer, asyncio.Event())
    async with running(uplink):
        await wait_until(lambda: uplink.stats.connect_failures >= 2, 20, "connection refusals")
    assert buffer.stats().readings == len(LINES)
    buffer.close()
