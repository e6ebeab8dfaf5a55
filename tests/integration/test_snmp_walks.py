"""The SNMP collector against snmpsim replaying every recorded walk, with both backends."""

from __future__ import annotations

import asyncio
import logging
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
from tests.collectors.snmp.snmpsim import snmpsim
from tests.collectors.snmp.walks import AIRMAX, MIKROTIK, UNIFI, load_walk, mac_forms, walk_path

pytestmark = pytest.mark.integration
KEY = "sixteen or more chars of key"


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Server]:
    walks = [walk_path(name) for name in (MIKROTIK, UNIFI, AIRMAX)]
    with snmpsim(tmp_path_factory.mktemp("snmpsim"), walks) as server:
        yield server


async def poll(server: servers.Server, walk: str, backend: str, clients: bool = False) -> list[Reading]:
    device: dict[str, Any] = {"name": "ap-1", "host": f"127.0.0.1:{server.port}", "community": walk}
    device |= {"backend": backend, "timeout_s": 2.0, "retries": 1}  # snmpsim answers slowly when loaded
    section = validate(SnmpSection, {"devices": [device], "clients": clients, "client_hash_key": KEY})
    poller = SnmpPoller(section.devices[0], "site", settings_for(section), asyncio.Semaphore(1))
    acc = Accumulator(SourceHealth())
    await poller.collect(acc)
    await poller.close()
    return acc.readings


def one(readings: list[Reading], measurement: str, **tags: str) -> Reading:
    found = [r for r in readings if r.measurement == measurement and tags.items() <= r.tags.items()]
    assert len(found) == 1, (measurement, tags, readings)
    return found[0]


@pytest.fixture(params=["gufo", "pysnmp"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_mikrotik(simulator: servers.Server, backend: str) -> None:
    readings = await poll(simulator, MIKROTIK, backend)
    assert one(readings, "device_status").fields["up"] is True
    clients = {r.tags["radio"]: r.fields["clients"] for r in readings if r.measurement == "ap_radio"}
    assert clients == {"wlan1": 7, "wlan2": 0, "wlan3": 0, "wlan4": 4}
    assert one(readings, "ap_iface", ifname="WAN").fields["in_octets"] == 6422347895
    ap = one(readings, "ap")
    assert (ap.tags["vendor"], ap.fields["clients"], ap.fields["dhcp_leases"]) == ("mikrotik", 11, 33)


async def test_unifi(simulator: servers.Server, backend: str) -> None:
    readings = await poll(simulator, UNIFI, backend)
    assert one(readings, "ap_radio", radio="ng").fields["clients"] == 4  # 0+1+3+0 over 4 VAPs
    ap = one(readings, "ap")
    assert (ap.tags["vendor"], ap.tags["model"], ap.fields["clients"]) == ("unifi", "UAP", 4)
    # The AP serves no CPU percentage (docs/snmp.md): its CPU panel stays empty, its load is stored.
    assert "cpu_pct" not in ap.fields and ap.fields["load_1m"] == 0.22


async def test_airmax(simulator: servers.Server, backend: str) -> None:
    readings = await poll(simulator, AIRMAX, backend)
    radio = one(readings, "ap_radio", radio="1")
    assert (radio.fields["clients"], radio.fields["ccq_pct"], radio.fields["noise_dbm"]) == (22, 92, -103)
    assert one(readings, "ap").tags["vendor"] == "airmax"


async def test_clients_hashed_nothing_raw_in_readings_or_logs(
    simulator: servers.Server, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    readings = await poll(simulator, MIKROTIK, backend, clients=True)
    clients = [r for r in readings if r.measurement == "ap_client"]
    assert len(clients) == 11 and all(len(r.tags["client"]) == 16 for r in clients)
    text = repr(readings) + caplog.text
    for oid in load_walk(MIKROTIK):
        if oid.startswith("1.3.6.1.4.1.14988.1.1.1.2.1.3."):
            for form in mac_forms(tuple(int(p) for p in oid.split(".")[-7:-1])):
                assert form not in text


async def test_unknown_community_is_a_down_device(simulator: servers.Server, backend: str) -> None:
    readings = await poll(simulator, "no-such-walk", backend)
    status = one(readings, "device_status").fields
    assert status["up"] is False and status["error"]
    assert one(readings, "ap").fields == {"up": False}
