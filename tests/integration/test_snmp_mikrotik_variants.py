"""The collector, on `profile = "auto"`, against the CAPsMAN manager and the RouterOS 7 wifi AP variants."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from edge_gateway.agent.collectors.snmp import settings_for
from edge_gateway.agent.collectors.snmp.config import SnmpSection
from edge_gateway.agent.collectors.snmp.poller import SnmpPoller
from edge_gateway.agent.collectors.snmp.privacy import ClientHasher
from edge_gateway.agent.scheduler import Accumulator, SourceHealth
from edge_gateway.core.model import Reading
from edge_gateway.core.validation import validate
from edge_gateway_dev.sim.snmp import ApHandle, ApSpec, run_fleet

pytestmark = pytest.mark.integration
EVENING_S = 1_795_438_800.0  # 2026-11-23 20:00 WIB: the daily curve's busy hours
HASH_KEY = "k" * 20
# The client tables each variant serves: entry OID, then the MAC (6 sub-ids) and the ifIndex.
CLIENT_TABLES = {
    "mikrotik-capsman": "1.3.6.1.4.1.14988.1.1.1.5.1.3.",
    "mikrotik-ros7": "1.3.6.1.4.1.14988.1.1.21.4.1.6.",
}


@pytest.fixture
async def variants() -> AsyncIterator[dict[str, ApHandle]]:
    specs = [ApSpec(f"ap-{vendor}", vendor, seed) for seed, vendor in enumerate(CLIENT_TABLES, start=11)]
    async with run_fleet(specs, clock=lambda: EVENING_S) as handles:
        yield {handle.vendor: handle for handle in handles}


async def poll(handle: ApHandle, backend: str, clients: bool) -> list[Reading]:
    device = {
        "name": handle.name,
        "host": f"{handle.host}:{handle.port}",
        "backend": backend,
        "community": "public",
        "profile": "auto",
        "timeout_s": 0.5,
        "retries": 1,
    }
    section = validate(SnmpSection, {"devices": [device], "clients": clients, "client_hash_key": HASH_KEY})
    poller = SnmpPoller(section.devices[0], "site", settings_for(section), asyncio.Semaphore(4))
    acc = Accumulator(SourceHealth())
    await poller.collect(acc)
    return acc.readings


def served_clients(handle: ApHandle) -> set[tuple[str, str]]:
    """(radio name, hashed client) of every row the AP served in its client table."""
    values = handle.truth().values
    names = {
        oid.rsplit(".", 1)[1]: value
        for oid, (_, value) in values.items()
        if oid.startswith("1.3.6.1.2.1.31.1.1.1.1.")
    }
    hasher = ClientHasher(HASH_KEY.encode())
    out = set()
    for oid in values:
        if oid.startswith(CLIENT_TABLES[handle.vendor]):
            *mac, iface = (int(arc) for arc in oid.removeprefix(CLIENT_TABLES[handle.vendor]).split("."))
            name = names[str(iface)]
            out.add((name.decode() if isinstance(name, bytes) else str(name), hasher.hash_index(tuple(mac))))
    return out


@pytest.mark.parametrize("vendor", list(CLIENT_TABLES))
@pytest.mark.parametrize("backend", ["gufo", "pysnmp"])
async def test_radios_and_total_carry_the_served_truth(
    variants: dict[str, ApHandle], vendor: str, backend: str
) -> None:
    handle = variants[vendor]
    truth = handle.truth().summary
    assert truth.clients > 0
    readings = await poll(handle, backend, clients=False)
    ap = next(r for r in readings if r.measurement == "ap")
    assert ap.tags["vendor"] == "mikrotik"
    assert ap.fields["up"] is True
    assert ap.fields["clients"] == truth.clients
    assert ap.fields["dhcp_leases"] == truth.dhcp_leases
    radios = {r.tags["radio"]: r.fields["clients"] for r in readings if r.measurement == "ap_radio"}
    if vendor == "mikrotik-capsman":
        assert radios == truth.clients_per_radio  # mtxrWlCMTable has a row for every CAP radio
    else:
        # a per-interface count only exists where a registration row does: idle radios are absent
        assert radios == {radio: n for radio, n in truth.clients_per_radio.items() if n}
    assert not [r for r in readings if r.measurement == "ap_client"]


@pytest.mark.parametrize("vendor", list(CLIENT_TABLES))
async def test_client_rows_are_the_served_clients_hashed(variants: dict[str, ApHandle], vendor: str) -> None:
    handle = variants[vendor]
    readings = await poll(handle, "gufo", clients=True)
    rows = [r for r in readings if r.measurement == "ap_client"]
    assert {(r.tags["radio"], r.tags["client"]) for r in rows} == served_clients(handle)
    assert len(rows) == handle.truth().summary.clients
    for row in rows:
        assert ":" not in row.tags["client"] and len(row.tags["client"]) < 32
        assert isinstance(row.fields["signal_dbm"], int) and row.fields["signal_dbm"] < 0
        assert isinstance(row.fields["uptime_s"], int | float)
