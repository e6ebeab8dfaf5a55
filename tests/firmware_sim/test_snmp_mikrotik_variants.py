"""net-snmp walks the CAPsMAN manager and RouterOS 7 wifi variants end to end, in order."""

from __future__ import annotations

import itertools
import shutil

import pytest

from edge_gateway_dev.sim.snmp import ApSpec, run_fleet
from tests.firmware_sim.snmp_netsnmp import credentials, run_tool

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("snmpbulkwalk") is None, reason="net-snmp tools not installed"),
]
EVENING_S = 1_795_438_800.0  # 2026-11-23 20:00 WIB: clients on every radio
# What each variant must serve (entry prefixes) and must not (the tables it replaces).
SERVES = {
    "mikrotik-capsman": ("1.3.6.1.4.1.14988.1.1.1.7.1.2.", "1.3.6.1.4.1.14988.1.1.1.5.1.3."),
    "mikrotik-ros7": ("1.3.6.1.4.1.14988.1.1.21.1.1.0", "1.3.6.1.4.1.14988.1.1.21.4.1.6."),
}
LEGACY = ("1.3.6.1.4.1.14988.1.1.1.2.1.", "1.3.6.1.4.1.14988.1.1.1.3.1.")


@pytest.mark.parametrize("vendor", list(SERVES))
async def test_snmpbulkwalk_walks_the_variant_completely(vendor: str) -> None:
    async with run_fleet([ApSpec("ap-1", vendor, 5)], clock=lambda: EVENING_S) as (ap,):
        run = await run_tool("snmpbulkwalk", ap, credentials(ap), ".1")
        truth = ap.truth()
    assert run.returncode == 0, run.stderr
    oids = [oid for oid, _, _ in run.rows]
    assert all(a < b for a, b in itertools.pairwise(oids)), "OIDs not strictly increasing"
    walked = {".".join(map(str, oid)) for oid in oids}
    assert walked == set(truth.values)
    for prefix in SERVES[vendor]:
        assert any(oid.startswith(prefix) for oid in walked), prefix
    assert not any(oid.startswith(LEGACY) for oid in walked)
