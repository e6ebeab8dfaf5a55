"""Each fault, switched at runtime, shows a real poller (net-snmp) the symptom it would see in the field."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import pytest

from edge_gateway_dev.sim.clock import SimClock
from edge_gateway_dev.sim.snmp import ApSpec, V3User, run_fleet
from tests.firmware_sim.snmp_netsnmp import credentials, run_tool

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("snmpbulkwalk") is None, reason="net-snmp tools not installed"),
]

EVENING_S = 1_795_438_800.0  # 2026-11-23 20:00 WIB
SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
RTAB_STRENGTH = "1.3.6.1.4.1.14988.1.1.1.2.1.3"


@dataclass
class FakeClock:
    now_s: float = EVENING_S

    def __call__(self) -> float:
        return self.now_s


async def test_no_reply_times_out_and_recovers_when_cleared() -> None:
    async with run_fleet([ApSpec("m", "mikrotik", 1)]) as (ap,):
        ap.faults.no_reply = True
        dead = await run_tool("snmpget", ap, credentials(ap), SYS_NAME, timeout_s=0.3)
        ap.faults.update("clear")
        alive = await run_tool("snmpget", ap, credentials(ap), SYS_NAME)
    assert dead.returncode != 0 and "Timeout: No Response" in dead.stderr
    assert alive.returncode == 0 and '"m"' in alive.stdout


async def test_slow_reply_misses_a_short_timeout_but_arrives_for_a_patient_poller() -> None:
    async with run_fleet([ApSpec("m", "mikrotik", 1)]) as (ap,):
        ap.faults.delay_ms = 600
        impatient = await run_tool("snmpget", ap, credentials(ap), SYS_NAME, timeout_s=0.2)
        patient = await run_tool("snmpget", ap, credentials(ap), SYS_NAME, timeout_s=3.0)
    assert impatient.returncode != 0 and "Timeout" in impatient.stderr
    assert patient.returncode == 0 and '"m"' in patient.stdout


async def test_truncated_table_walk_has_fewer_rows() -> None:
    async with run_fleet([ApSpec("m", "mikrotik", 2)], clock=FakeClock()) as (ap,):
        full = await run_tool("snmpbulkwalk", ap, credentials(ap), RTAB_STRENGTH)
        ap.faults.truncate_rows = 2
        cut = await run_tool("snmpbulkwalk", ap, credentials(ap), RTAB_STRENGTH)
        served = ap.truth().summary.clients
    assert full.returncode == 0 and cut.returncode == 0, cut.stderr
    assert served > 2
    assert len(full.rows) == served
    assert len(cut.rows) == 2


@pytest.mark.hours
async def test_too_big_on_large_getbulk(sim_start_s: float) -> None:
    """The UniFi subtree is large enough to need more than one reply at every hour, night included."""
    async with run_fleet([ApSpec("u", "unifi", 3)], clock=SimClock(sim_start_s)) as (ap,):
        ap.faults.too_big_varbinds = 5
        bulk = await run_tool("snmpbulkwalk", ap, [*credentials(ap), "-Cr10"], "1.3.6.1.4.1.41112")
        small = await run_tool("snmpbulkwalk", ap, [*credentials(ap), "-Cr5"], "1.3.6.1.4.1.41112")
    assert "tooBig" in bulk.stdout + bulk.stderr
    assert not bulk.rows
    assert small.returncode == 0 and len(small.rows) > 20


async def test_non_increasing_oid_is_caught_by_snmpbulkwalk() -> None:
    async with run_fleet([ApSpec("a", "airmax", 4)], clock=FakeClock()) as (ap,):
        ap.faults.non_increasing = True
        run = await run_tool("snmpbulkwalk", ap, credentials(ap), "1.3.6.1.4.1.41112.1.4")
    assert run.returncode != 0
    assert "OID not increasing" in run.stderr


async def test_flapping_follows_the_clock() -> None:
    clock = FakeClock(EVENING_S)
    async with run_fleet([ApSpec("g", "generic", 5)], clock=clock) as (ap,):
        ap.faults.flap_period_s = 60
        clock.now_s = 60 * (int(EVENING_S // 60) | 1)  # an odd period: down
        down = await run_tool("snmpget", ap, credentials(ap), SYS_NAME, timeout_s=0.3)
        clock.now_s += 60  # the next period: up
        up = await run_tool("snmpget", ap, credentials(ap), SYS_NAME)
    assert down.returncode != 0 and "Timeout" in down.stderr
    assert up.returncode == 0 and '"g"' in up.stdout


async def test_wrong_community_fault_ignores_the_configured_community() -> None:
    async with run_fleet([ApSpec("m", "mikrotik", 6)]) as (ap,):
        ap.faults.wrong_community = True
        run = await run_tool("snmpget", ap, credentials(ap), SYS_NAME, timeout_s=0.3)
    assert run.returncode != 0 and "Timeout" in run.stderr
    assert ap.stats.responses == 0 and ap.stats.dropped_silently >= 1


@pytest.mark.parametrize("v3", [None, V3User("noc", auth_key="auth-key-123", priv_key="priv-key-456")])
async def test_reboot_resets_uptime_and_v3_pollers_resynchronise(v3: V3User | None) -> None:
    clock = FakeClock()
    spec = ApSpec("m", "mikrotik", 7, community=None if v3 else "public", v3=v3)
    async with run_fleet([spec], clock=clock) as (ap,):
        before = await run_tool("snmpget", ap, credentials(ap), SYS_UPTIME)
        boots = ap.model.engine_boots
        ap.reboot()
        clock.now_s += 12
        after = await run_tool("snmpget", ap, credentials(ap), SYS_UPTIME)
    assert before.returncode == 0 and after.returncode == 0, after.stderr
    assert after.rows[0][2].startswith("(1200)")
    assert int(before.rows[0][2].split(")")[0][1:]) > 360_000
    assert ap.model.engine_boots == boots + 1
