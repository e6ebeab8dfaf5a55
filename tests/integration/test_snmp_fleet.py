"""The SNMP collector against the simulated AP fleet (edge_gateway_dev.sim.snmp): truth, v3, and every fault.

The fleet runs on a simulated clock (tests/firmware_sim/hours.py): the truth test at each hour that
matters, the fault tests at the evening peak, never at the hour the suite happens to run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from edge_gateway.agent.collectors.snmp import settings_for
from edge_gateway.agent.collectors.snmp.config import SnmpSection
from edge_gateway.agent.collectors.snmp.poller import SnmpPoller
from edge_gateway.agent.scheduler import Accumulator, SourceHealth
from edge_gateway.core.model import Reading
from edge_gateway.core.validation import validate
from edge_gateway_dev.sim.clock import Clock, SimClock
from edge_gateway_dev.sim.snmp import ApHandle, make_fleet_specs, run_fleet

pytestmark = pytest.mark.integration
MIKROTIK_V2C = "ap-003"  # in make_fleet_specs(8, 7): a MikroTik answering v2c


def device_config(handle: ApHandle, backend: str, **extra: Any) -> dict[str, Any]:
    described = handle.describe()
    config: dict[str, Any] = {"name": handle.name, "host": f"{handle.host}:{handle.port}", "backend": backend}
    v3 = described["v3"]
    if isinstance(v3, dict):
        config |= {"version": "3", "user": v3["user"], "auth_protocol": "sha", "auth_key": v3["auth_key"]}
        if v3["priv_key"]:
            config |= {"priv_protocol": "aes", "priv_key": v3["priv_key"]}
    else:
        config["community"] = described["community"]
    return config | {"timeout_s": 0.5, "retries": 1, **extra}


@contextlib.asynccontextmanager
async def serve_fleet(clock: Clock) -> AsyncIterator[dict[str, ApHandle]]:
    async with run_fleet(make_fleet_specs(8, 7), clock=clock) as handles:
        yield {handle.name: handle for handle in handles}


@pytest.fixture
async def fleet(sim_start_s: float) -> AsyncIterator[dict[str, ApHandle]]:
    """The fleet at one instant: its clock stands still, so a poll and the truth see the same second."""
    async with serve_fleet(lambda: sim_start_s) as handles:
        yield handles


@pytest.fixture
async def running_fleet(sim_start_s: float) -> AsyncIterator[dict[str, ApHandle]]:
    """The fleet with its time running from the instant on: for reboots and flapping."""
    async with serve_fleet(SimClock(sim_start_s)) as handles:
        yield handles


@pytest.fixture(params=["gufo", "pysnmp"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_poller(handle: ApHandle, backend: str, **extra: Any) -> SnmpPoller:
    section = validate(
        SnmpSection,
        {"devices": [device_config(handle, backend, **extra)], "clients": True, "client_hash_key": "k" * 20},
    )
    return SnmpPoller(section.devices[0], "site", settings_for(section), asyncio.Semaphore(4))


async def cycle(poller: SnmpPoller) -> tuple[list[Reading], dict[str, Any]]:
    acc = Accumulator(SourceHealth())
    await poller.collect(acc)
    status = next(r for r in acc.readings if r.measurement == "device_status")
    return acc.readings, dict(status.fields)


def radios(readings: list[Reading]) -> dict[str, Any]:
    return {r.tags["radio"]: r.fields.get("clients") for r in readings if r.measurement == "ap_radio"}


@pytest.mark.hours
async def test_every_ap_matches_its_truth(fleet: dict[str, ApHandle], backend: str) -> None:
    """At each hour, zeros included: an AP with no client reports `clients` 0 and `hotspot_users` 0,
    and no CCQ on a radio without a station (docs/schema.md)."""
    for handle in fleet.values():
        readings, status = await cycle(make_poller(handle, backend))
        assert status["up"] is True, (handle.name, status)
        truth = handle.truth().summary
        ap = next(r for r in readings if r.measurement == "ap")
        assert ap.tags["vendor"] == handle.vendor
        if handle.vendor != "generic":  # a generic AP has no wireless MIB: clients unknown
            assert ap.fields["clients"] == truth.clients, handle.name
        if handle.vendor == "mikrotik":
            assert radios(readings) == truth.clients_per_radio
            assert (ap.fields["hotspot_users"], ap.fields["dhcp_leases"]) == (
                truth.hotspot_users,
                truth.dhcp_leases,
            )
        for radio in (r for r in readings if r.measurement == "ap_radio"):
            if radio.fields.get("clients") == 0:
                assert "ccq_pct" not in radio.fields, radio  # undefined without a station


async def test_too_big_halves_repetitions_and_still_reads_everything(
    fleet: dict[str, ApHandle], backend: str
) -> None:
    handle = fleet[MIKROTIK_V2C]
    handle.faults.update("too_big_varbinds=5")
    poller = make_poller(handle, backend)
    readings, status = await cycle(poller)
    assert status["up"] is True, status
    assert poller.max_repetitions <= 5
    assert radios(readings) == handle.truth().summary.clients_per_radio


async def test_non_increasing_oids_break_one_walk_not_the_poll(
    fleet: dict[str, ApHandle], backend: str
) -> None:
    handle = fleet[MIKROTIK_V2C]
    handle.faults.update("non_increasing")
    readings, status = await cycle(make_poller(handle, backend))
    assert status["up"] is True and "not increasing" in status["error"]
    assert radios(readings) == handle.truth().summary.clients_per_radio


async def test_truncated_client_table_gives_fewer_clients_not_a_failure(
    fleet: dict[str, ApHandle], backend: str
) -> None:
    handle = fleet[MIKROTIK_V2C]
    handle.faults.update("truncate_rows=2")
    readings, status = await cycle(make_poller(handle, backend))
    assert status["up"] is True
    assert len([r for r in readings if r.measurement == "ap_client"]) <= 2


async def test_dead_and_slow_aps_do_not_delay_the_others(fleet: dict[str, ApHandle]) -> None:
    """gufo only: with pysnmp, seven engines decoding in the loop the simulated fleet also runs in
    starve the fleet itself, so "slow" stops meaning the fault (each backend's deadline handling is
    covered by the other tests and by test_poller)."""
    backend = "gufo"
    fleet["ap-001"].faults.update("no_reply")
    fleet["ap-002"].faults.update("delay_ms=400")  # answers, too slowly for its deadline
    slow_deadline_s = 1.5 if backend == "gufo" else 6.0  # pysnmp needs ~1 s of CPU for the 7 others
    pollers = [
        make_poller(h, backend, deadline_s=slow_deadline_s if h.name == "ap-002" else 30)
        for h in fleet.values()
    ]
    finished: list[str] = []

    async def run(poller: SnmpPoller) -> dict[str, Any]:
        _, status = await cycle(poller)
        finished.append(poller.device.name)
        return status

    statuses = dict(zip(fleet, await asyncio.gather(*(run(p) for p in pollers)), strict=True))
    assert statuses["ap-001"]["up"] is False and statuses["ap-002"]["up"] is False, statuses
    assert statuses["ap-002"]["error"] == "deadline exceeded"
    assert all(statuses[name]["up"] for name in fleet if name not in ("ap-001", "ap-002"))
    assert finished[-1] == "ap-002"  # the healthy ones did not wait for the slow one


async def test_reboot_drops_the_rate_interval(running_fleet: dict[str, ApHandle], backend: str) -> None:
    handle = running_fleet[MIKROTIK_V2C]
    poller = make_poller(handle, backend)
    await cycle(poller)
    handle.reboot()
    readings, status = await cycle(poller)
    assert status["up"] is True
    interfaces = [r for r in readings if r.measurement == "ap_iface"]
    assert interfaces and not any("in_bps" in r.fields for r in interfaces)
    readings, _ = await cycle(poller)
    assert any("in_bps" in r.fields for r in readings if r.measurement == "ap_iface")


async def test_wrong_community_is_down_then_recovers(fleet: dict[str, ApHandle], backend: str) -> None:
    handle = fleet[MIKROTIK_V2C]
    handle.faults.update("wrong_community")
    poller = make_poller(handle, backend, retries=0)
    _, status = await cycle(poller)
    assert status["up"] is False
    handle.faults.update("clear")
    _, status = await cycle(poller)
    assert status["up"] is True


async def test_flapping_ap_is_logged_down_and_up_once_per_flap(
    running_fleet: dict[str, ApHandle], backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    handle = running_fleet[MIKROTIK_V2C]
    handle.faults.update("flap_period_s=0.6")
    poller = make_poller(handle, backend, retries=0, timeout_s=0.2, interval_s=1)
    health, seen = SourceHealth(), list[bool]()
    caplog.set_level(logging.INFO, logger="edge_gateway.agent.scheduler")
    deadline = asyncio.get_running_loop().time() + 20
    while seen.count(False) < 2 or seen[-1] is not True:
        assert asyncio.get_running_loop().time() < deadline, seen
        acc = Accumulator(health)
        await poller.collect(acc)
        status = next(r for r in acc.readings if r.measurement == "device_status").fields
        if "backing off" not in str(status["error"]):
            seen.append(status["up"] is True)
    downs = sum(1 for before, now in zip([True, *seen], seen, strict=False) if before and not now)
    assert sum("is down" in r.message for r in caplog.records) == downs
    assert sum("recovered" in r.message for r in caplog.records) == downs
