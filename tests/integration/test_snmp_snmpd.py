"""The SNMP collector against a real net-snmp snmpd: v2c and v3 authPriv (SHA/AES), both backends."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from edge_gateway.agent.collectors.snmp import settings_for
from edge_gateway.agent.collectors.snmp.config import SnmpSection
from edge_gateway.agent.collectors.snmp.poller import SnmpPoller
from edge_gateway.agent.scheduler import Accumulator, SourceHealth
from edge_gateway.core.model import Reading
from edge_gateway.core.validation import validate
from edge_gateway_dev import servers

pytestmark = pytest.mark.integration
V3_USER = 'createUser u SHA "authpass123" AES "privpass123"\nrouser u priv\n'
V3 = {"version": "3", "user": "u", "auth_protocol": "sha", "auth_key": "authpass123"}
V3 |= {"priv_protocol": "aes", "priv_key": "privpass123"}


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Server]:
    with servers.snmpd(tmp_path_factory.mktemp("snmpd"), community="edge-ro", extra_config=V3_USER) as server:
        yield server


async def cycles(
    server: servers.Server, credentials: dict[str, Any], backend: str, count: int, host: str = "127.0.0.1"
) -> list[Reading]:
    device = {"name": "netsnmp", "host": f"{host}:{server.port}", "backend": backend, **credentials}
    section = validate(SnmpSection, {"devices": [device]})
    poller = SnmpPoller(section.devices[0], "lab", settings_for(section), asyncio.Semaphore(1))
    readings: list[Reading] = []
    for _ in range(count):
        acc = Accumulator(SourceHealth())
        await poller.collect(acc)
        readings += acc.readings
    await poller.close()
    return readings


@pytest.mark.parametrize("backend", ["gufo", "pysnmp"])
@pytest.mark.parametrize("credentials", [{"community": "edge-ro"}, V3], ids=["v2c", "v3-authpriv"])
async def test_generic_profile_on_net_snmp(
    agent: servers.Server, credentials: dict[str, Any], backend: str
) -> None:
    readings = await cycles(agent, credentials, backend, 2)
    statuses = [r.fields for r in readings if r.measurement == "device_status"]
    assert [s["up"] for s in statuses] == [True, True], statuses
    ap = [r for r in readings if r.measurement == "ap"][-1]
    assert ap.tags["vendor"] == "generic" and isinstance(ap.fields["uptime_s"], int)
    assert 0 < float(ap.fields["mem_used_pct"]) < 100
    loopback = [r for r in readings if r.measurement == "ap_iface" and r.tags["ifname"] == "lo"]
    assert len(loopback) == 2 and isinstance(loopback[0].fields["in_octets"], int)
    assert isinstance(loopback[-1].fields["in_bps"], float)  # the second poll has a rate


@pytest.mark.parametrize("backend", ["gufo", "pysnmp"])
async def test_a_host_name_is_resolved_for_the_backend(agent: servers.Server, backend: str) -> None:
    """`localhost` (resolved on this machine only): gufo used to answer `OSError: invalid address`."""
    readings = await cycles(agent, {"community": "edge-ro"}, backend, 1, host="localhost")
    status = next(r for r in readings if r.measurement == "device_status").fields
    assert status["up"] is True, status


async def test_wrong_v3_password_is_a_down_device(agent: servers.Server) -> None:
    readings = await cycles(
        agent, {**V3, "priv_key": "not-the-key", "timeout_s": 0.5, "retries": 0}, "gufo", 1
    )
    status = next(r for r in readings if r.measurement == "device_status").fields
    assert status["up"] is False and status["error"]


def probe(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "edge_gateway.agent.collectors.snmp.probe", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_probe_prints_json_readings_and_exits_zero(agent: servers.Server) -> None:
    done = probe(f"127.0.0.1:{agent.port}", "--community", "edge-ro", "--format", "json")
    assert done.returncode == 0, done.stderr
    readings = json.loads(done.stdout)
    assert {r["measurement"] for r in readings} >= {"ap", "ap_iface", "device_status"}
    assert all(set(r) == {"measurement", "tags", "fields", "time_ns"} for r in readings)


def test_probe_v3_line_protocol(agent: servers.Server) -> None:
    v3 = ["--v3-user", "u", "--auth-protocol", "sha", "--auth-key", "authpass123"]
    v3 += ["--priv-protocol", "aes", "--priv-key", "privpass123", "--backend", "pysnmp"]
    done = probe(f"127.0.0.1:{agent.port}", *v3, "--format", "lp")
    assert done.returncode == 0, done.stderr
    assert any(line.startswith("ap,") and "vendor=generic" in line for line in done.stdout.splitlines())


def test_probe_exits_non_zero_when_nothing_answers() -> None:
    port = servers.free_port(socket.SOCK_DGRAM)
    done = probe(f"127.0.0.1:{port}", "--timeout-s", "0.2", "--retries", "0", "--format", "json")
    assert done.returncode == 1
    assert "no answer" in done.stderr


def test_probe_refuses_an_unknown_profile() -> None:
    done = probe("127.0.0.1:9", "--profile", "cisco")
    assert done.returncode == 2 and "unknown profile" in done.stderr
