"""`edge probe snmp --profile auto` against the simulated Cambium, Ruckus, Huawei and OpenWrt devices:
the profile each is given, and its clients and radio data against what the simulator served."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

import pytest

from edge_gateway.agent.collectors.snmp.probe import _section, add_probe_parser, probe_once
from edge_gateway.core.model import Reading
from edge_gateway_dev.sim.snmp import ApHandle, ApSpec, run_fleet

pytestmark = pytest.mark.integration
EVENING_S = 1_795_438_800.0  # 2026-11-23 20:00 WIB: the daily curve's busy hours
# Simulated vendor -> the profile `auto` must pick.
PROFILES = {
    "cambium-pmp450": "cambium",
    "cambium-epmp": "cambium",
    "ruckus-zd": "ruckus",
    "ruckus-smartzone": "ruckus",
    "ruckus-unleashed": "ruckus",
    "huawei-ac": "huawei",
    "openwrt": "openwrt",
    "tplink-eap": "tplink",
    "ruijie-ac": "ruijie",
}


@pytest.fixture
async def devices() -> AsyncIterator[dict[str, ApHandle]]:
    specs = [ApSpec(f"dev-{vendor}", vendor, seed) for seed, vendor in enumerate(PROFILES, start=41)]
    async with run_fleet(specs, clock=lambda: EVENING_S) as handles:
        yield {handle.vendor: handle for handle in handles}


async def probe(handle: ApHandle, backend: str = "gufo") -> list[Reading]:
    """What `edge probe snmp HOST:PORT --profile auto` reads, through its own argument parsing."""
    parser = argparse.ArgumentParser()
    add_probe_parser(parser.add_subparsers())
    args = parser.parse_args(
        ["snmp", f"{handle.host}:{handle.port}", "--backend", backend, "--timeout-s", "1"]
    )
    readings, up = await probe_once(_section(args))
    assert up
    return readings


def controller_point(readings: list[Reading]) -> Reading:
    points = [r for r in readings if r.measurement == "ap"]
    assert len(points) == 1  # one `ap` point per device, a controller's APs are `managed_ap` points
    return points[0]


@pytest.mark.parametrize("vendor", list(PROFILES))
async def test_auto_picks_the_vendor_and_reads_its_clients(devices: dict[str, ApHandle], vendor: str) -> None:
    handle = devices[vendor]
    truth = handle.truth().summary
    assert truth.clients > 0
    point = controller_point(await probe(handle))
    assert point.tags["vendor"] == PROFILES[vendor]
    assert point.fields["up"] is True
    assert point.fields["clients"] == truth.clients


@pytest.mark.parametrize("vendor", ["cambium-pmp450", "cambium-epmp", "openwrt"])
async def test_an_ap_reports_each_radio(devices: dict[str, ApHandle], vendor: str) -> None:
    handle = devices[vendor]
    readings = await probe(handle)
    radios = {r.tags["radio"]: r.fields for r in readings if r.measurement == "ap_radio"}
    assert {radio: f["clients"] for radio, f in radios.items()} == handle.truth().summary.clients_per_radio
    assert all(isinstance(f["freq_mhz"], int) and f["freq_mhz"] > 2000 for f in radios.values())


@pytest.mark.parametrize("vendor", ["ruckus-zd", "huawei-ac"])
@pytest.mark.parametrize("backend", ["gufo", "pysnmp"])
async def test_a_controller_reports_each_ap_radio_tagged_with_its_ap(
    devices: dict[str, ApHandle], vendor: str, backend: str
) -> None:
    handle = devices[vendor]
    readings = await probe(handle, backend)
    points = [r for r in readings if r.measurement == "ap_radio"]
    assert all(r.tags["radio"].startswith(r.tags["ap"] + "/") for r in points)  # one series per AP radio
    radios = {r.tags["radio"]: r.fields for r in points}
    truth = handle.truth().summary.clients_per_radio
    assert {key: f["clients"] for key, f in radios.items()} == truth
    assert all(isinstance(f["channel"], int) for f in radios.values())
    per_ap = [r.fields["clients"] for r in readings if r.measurement == "managed_ap"]
    assert all(isinstance(n, int) for n in per_ap) and len(per_ap) == 3
    assert sum(n for n in per_ap if isinstance(n, int)) == sum(truth.values())


@pytest.mark.parametrize("vendor", ["ruckus-smartzone", "ruijie-ac"])
async def test_a_controller_without_radio_tables_reports_each_ap(
    devices: dict[str, ApHandle], vendor: str
) -> None:
    """RUCKUS-SZ-WLAN-MIB and RUIJIE-AC-MGMT-MIB have per-AP, not per-radio, counts: `managed_ap` points
    tagged with the AP."""
    handle = devices[vendor]
    readings = await probe(handle)
    per_ap = {r.tags["ap"]: r.fields["clients"] for r in readings if r.measurement == "managed_ap"}
    assert per_ap == handle.truth().summary.clients_per_radio


async def test_ruijie_reports_the_channel_of_each_ap_radio(devices: dict[str, ApHandle]) -> None:
    """RUIJIE-AC-MGMT-MIB ruijieApCfgRadioTable (AP MAC, radio id): ruijieApCurChan per AP radio."""
    handle = devices["ruijie-ac"]
    column = "1.3.6.1.4.1.4881.1.1.10.2.56.2.1.2.1.11."
    served = sorted(
        value
        for oid, (_, value) in handle.truth().values.items()
        if oid.startswith(column) and isinstance(value, int)
    )
    points = [r for r in await probe(handle) if r.measurement == "ap_radio"]
    assert all(r.tags["radio"].startswith(r.tags["ap"] + "/") for r in points)  # one series per AP radio
    assert len({r.tags["ap"] for r in points}) == 3
    assert sorted(r.fields["channel"] for r in points) == served and len(served) == 6


async def test_ruijie_reports_the_tx_power_of_each_ap_radio(devices: dict[str, ApHandle]) -> None:
    """ruijieApCurTxPower (.17) of the row (AP MAC, radio id) lands on that AP radio's point: the sim
    serves a different power on every AP radio, so a row joined to the wrong AP or radio shows."""
    handle = devices["ruijie-ac"]
    values = handle.truth().values
    names_column = "1.3.6.1.4.1.4881.1.1.10.2.56.2.1.1.1.2."  # the AP's name, by its MAC
    power_column = "1.3.6.1.4.1.4881.1.1.10.2.56.2.1.2.1.17."  # by MAC then radio id
    names = {
        oid[len(names_column) :]: value for oid, (_, value) in values.items() if oid.startswith(names_column)
    }
    served = {}
    for oid, (_, value) in values.items():
        if oid.startswith(power_column):
            mac, _, radio = oid[len(power_column) :].rpartition(".")
            name = names[mac]
            assert isinstance(name, bytes)
            served[f"{name.decode()}/{radio}"] = value
    points = [r for r in await probe(handle) if r.measurement == "ap_radio"]
    assert {r.tags["radio"]: r.fields["tx_power_dbm"] for r in points} == served
    assert len(set(served.values())) == 6


async def test_openwrt_without_sysuptime_is_up_with_the_host_uptime(devices: dict[str, ApHandle]) -> None:
    handle = devices["openwrt"]
    assert "1.3.6.1.2.1.1.3.0" not in handle.truth().values
    point = controller_point(await probe(handle))
    _, host_ticks = handle.truth().values["1.3.6.1.2.1.25.1.1.0"]  # hrSystemUptime
    assert isinstance(host_ticks, int) and point.fields["uptime_s"] == host_ticks // 100
