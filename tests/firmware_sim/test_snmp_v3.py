"""USM time window and reboot as a long-lived poller session (gufo-snmp, the project's client) sees them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from gufo.snmp import Aes128Key, Sha1Key, SnmpAuthError, SnmpVersion, User
from gufo.snmp.aio import SnmpSession

from edge_gateway_dev.sim.snmp import ApSpec, V3User, run_fleet
from edge_gateway_dev.sim.snmp.v3 import NOT_IN_TIME_WINDOWS, UNKNOWN_ENGINE_IDS

EVENING_S = 1_795_438_800.0
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
V3 = V3User("noc", auth_key="auth-key-123", priv_key="priv-key-456")


@dataclass
class FakeClock:
    now_s: float = EVENING_S

    def __call__(self) -> float:
        return self.now_s


def user() -> User:
    return User("noc", auth_key=Sha1Key(b"auth-key-123"), priv_key=Aes128Key(b"priv-key-456"))


@pytest.mark.parametrize("event", ["reboot", "clock_jump"])
async def test_out_of_window_requests_get_a_report_and_a_resync_recovers(event: str) -> None:
    clock = FakeClock()
    async with run_fleet([ApSpec("m", "mikrotik", 8, community=None, v3=V3)], clock=clock) as (ap,):
        engine = ap.agent.v3
        assert engine is not None
        async with SnmpSession(
            addr=ap.host, port=ap.port, user=user(), version=SnmpVersion.v3, timeout=2.0
        ) as session:
            assert engine.usm_counters[UNKNOWN_ENGINE_IDS] == 1  # discovery
            first = await session.get(SYS_UPTIME)
            if event == "reboot":
                ap.reboot()
            clock.now_s += 200  # beyond the 150 s window either way
            with pytest.raises(SnmpAuthError):
                await session.get(SYS_UPTIME)
            assert engine.usm_counters[NOT_IN_TIME_WINDOWS] == 1
            await session.refresh()
            second = await session.get(SYS_UPTIME)
    assert isinstance(first, int) and isinstance(second, int)
    assert second == (20_000 if event == "reboot" else first + 20_000)
