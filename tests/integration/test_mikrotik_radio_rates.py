"""A MikroTik radio's tx/rx rate over SNMP: its stations' mean PHY rate, never RouterOS's AP-table 0.

The simulated hAP serves mtxrWlApTxRate/RxRate 0 on every radio, as the recorded RouterOS walk does,
and per-station rates in mtxrWlRtabTable; the CAPsMAN manager serves them in mtxrWlCMRtabTable."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from edge_gateway_dev.sim.snmp import ApHandle, ApSpec, run_fleet
from tests.integration.test_snmp_mikrotik_variants import EVENING_S, poll

pytestmark = pytest.mark.integration
# The station table each variant serves, up to the column number: tx rate is column 8, rx rate 9.
STATION_TABLES = {
    "mikrotik": "1.3.6.1.4.1.14988.1.1.1.2.1.",
    "mikrotik-capsman": "1.3.6.1.4.1.14988.1.1.1.5.1.",
}
AP_TABLE_RATES = ("1.3.6.1.4.1.14988.1.1.1.3.1.2.", "1.3.6.1.4.1.14988.1.1.1.3.1.3.")


NIGHT_S = EVENING_S + 7 * 3600  # 03:00 WIB: some radios of each AP have no station, others have a few


@pytest.fixture
async def aps() -> AsyncIterator[dict[str, ApHandle]]:
    specs = [ApSpec(f"ap-{vendor}", vendor, seed) for seed, vendor in enumerate(STATION_TABLES, start=41)]
    async with run_fleet(specs, clock=lambda: NIGHT_S) as handles:
        yield {handle.vendor: handle for handle in handles}


def served_mean_rates(handle: ApHandle) -> dict[str, tuple[int, int]]:
    """Radio name -> (mean tx, mean rx) of the rates the AP served for its stations."""
    values = handle.truth().values
    names = {
        oid.rsplit(".", 1)[1]: v
        for oid, (_, v) in values.items()
        if oid.startswith("1.3.6.1.2.1.31.1.1.1.1.")
    }
    per_radio: dict[str, tuple[list[int], list[int]]] = {}
    for column, position in (("8.", 0), ("9.", 1)):
        prefix = STATION_TABLES[handle.vendor] + column
        for oid, (_, value) in values.items():
            if oid.startswith(prefix) and isinstance(value, int):
                name = names[oid.rsplit(".", 1)[1]]
                radio = name.decode() if isinstance(name, bytes) else str(name)
                per_radio.setdefault(radio, ([], []))[position].append(value)
    return {
        radio: (round(sum(tx) / len(tx)), round(sum(rx) / len(rx))) for radio, (tx, rx) in per_radio.items()
    }


@pytest.mark.parametrize("vendor", list(STATION_TABLES))
async def test_a_radio_shows_its_stations_mean_rate_and_an_idle_radio_none(
    aps: dict[str, ApHandle], vendor: str
) -> None:
    handle = aps[vendor]
    served = handle.truth().values
    assert all(value == 0 for oid, (_, value) in served.items() if oid.startswith(AP_TABLE_RATES))
    expected = served_mean_rates(handle)
    assert expected and all(tx > 0 and rx > 0 for tx, rx in expected.values())
    readings = await poll(handle, "gufo", clients=False)
    radios = {r.tags["radio"]: r.fields for r in readings if r.measurement == "ap_radio"}
    rates = {
        radio: (fields["tx_rate_bps"], fields["rx_rate_bps"])
        for radio, fields in radios.items()
        if "tx_rate_bps" in fields or "rx_rate_bps" in fields
    }
    assert rates == expected
    idle = [radio for radio, fields in radios.items() if fields["clients"] == 0]
    assert idle and not set(idle) & set(rates)
