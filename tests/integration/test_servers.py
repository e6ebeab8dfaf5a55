"""The real-server harness: every server starts on loopback, answers, and is gone after the block."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from edge_gateway_dev import servers

pytestmark = pytest.mark.integration

STARTERS: list[Callable[[Path], contextlib.AbstractContextManager[servers.Server]]] = [
    servers.mosquitto,
    servers.influxdb,
    servers.victoriametrics,
    servers.alertmanager,
    servers.snmpd,
]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("start", STARTERS, ids=lambda f: f.__name__)
def test_server_starts_on_loopback_and_stops(
    tmp_path: Path, start: Callable[[Path], contextlib.AbstractContextManager[servers.Server]]
) -> None:
    with start(tmp_path) as server:
        assert server.host == "127.0.0.1" and server.port > 1024
        assert _alive(server.process.pid)
        if server.name != "snmpd":
            with socket.create_connection((server.host, server.port), timeout=2):
                pass
    assert server.process.returncode is not None
    assert not _alive(server.process.pid)


def test_server_is_stopped_when_the_block_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"), servers.mosquitto(tmp_path) as server:
        raise RuntimeError("boom")
    assert not _alive(server.process.pid)


def test_a_server_that_cannot_start_is_reported_with_its_log(tmp_path: Path) -> None:
    with (
        pytest.raises(servers.ServerError, match="mosquitto exited") as caught,
        servers.mosquitto(tmp_path, extra_config="this_is_not_an_option 1\n"),
    ):
        pass
    assert "this_is_not_an_option" in str(caught.value)


@pytest.mark.parametrize("kind", [socket.SOCK_STREAM, socket.SOCK_DGRAM])
def test_ports_handed_out_before_any_is_bound_differ(kind: int) -> None:
    # 3,000 random picks among Linux's ~14,000 would repeat one almost surely (the birthday bound)
    ports = [servers.free_port(kind) for _ in range(3000)]
    assert len(set(ports)) == len(ports)
