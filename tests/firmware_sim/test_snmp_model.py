"""Dynamics of the simulated APs at the model level, under a clock the test controls."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from edge_gateway_dev.sim.snmp import ApModel, ApSpec
from edge_gateway_dev.sim.snmp.dynamics import WIB_OFFSET_S, hotspot_intensity, local_hour

WIB = timezone(timedelta(seconds=WIB_OFFSET_S))
MIDNIGHT_WIB_S = datetime(2026, 11, 23, tzinfo=WIB).timestamp()
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
WRAP32 = 2**32


@dataclass
class FakeClock:
    now_s: float

    def __call__(self) -> float:
        return self.now_s


def model(
    vendor: str, seed: int = 11, start_s: float = MIDNIGHT_WIB_S + 10 * 3600
) -> tuple[ApModel, FakeClock]:
    clock = FakeClock(start_s)
    return ApModel(ApSpec(f"ap-{vendor}", vendor, seed), clock), clock


def column(values: dict[str, tuple[str, object]], prefix: str) -> dict[str, tuple[str, object]]:
    return {oid: value for oid, value in values.items() if oid.startswith(prefix + ".")}


def int_value(values: dict[str, tuple[str, object]], oid: str) -> int:
    value = values[oid][1]
    assert isinstance(value, int)
    return value


def test_local_evening_is_busier_than_night() -> None:
    assert hotspot_intensity(20.0) > 0.9 > 0.1 > hotspot_intensity(3.0)


@pytest.mark.parametrize("vendor", ["mikrotik", "airmax", "generic"])
def test_byte_counters_increase_and_32_bit_twins_wrap(vendor: str) -> None:
    ap, clock = model(vendor)
    wraps = 0
    previous: dict[str, tuple[int, int]] = {}
    for step in range(0, 24 * 6):
        clock.now_s = MIDNIGHT_WIB_S + 600 * step
        values = ap.truth().values
        for oid, (type_name, hc) in column(values, IF_HC_IN_OCTETS).items():
            if_index = oid.rsplit(".", 1)[1]
            low = int_value(values, f"{IF_IN_OCTETS}.{if_index}")
            assert type_name == "Counter64" and values[f"{IF_IN_OCTETS}.{if_index}"][0] == "Counter32"
            assert isinstance(hc, int) and low == hc % WRAP32
            if if_index in previous:
                assert hc >= previous[if_index][0]
                wraps += low < previous[if_index][1]
            previous[if_index] = (hc, low)
    assert wraps > 0
    busiest = max(previous.values())[0]
    assert busiest > WRAP32


def test_reboot_resets_uptime_counters_and_sessions() -> None:
    ap, clock = model("mikrotik", start_s=MIDNIGHT_WIB_S + 20 * 3600)
    before = ap.truth()
    boots = before.engine_boots
    clock.now_s += 60
    ap.reboot()
    clock.now_s += 30
    after = ap.truth()
    assert after.uptime_s == 30 and int_value(after.values, SYS_UPTIME) == 3000
    assert after.engine_boots == boots + 1
    for name, (octets_in, _) in after.summary.iface_octets.items():
        assert octets_in < before.summary.iface_octets[name][0] or octets_in == 0
    client_uptimes = column(after.values, "1.3.6.1.4.1.14988.1.1.1.2.1.11")
    assert client_uptimes and all(int(value[1]) <= 3000 for value in client_uptimes.values())  # type: ignore[call-overload]


def test_clients_follow_the_daily_curve() -> None:
    ap, _ = model("mikrotik", seed=5)
    evening = sum(ap.truth(MIDNIGHT_WIB_S + day * 86400 + 20 * 3600).summary.clients for day in range(7))
    night = sum(ap.truth(MIDNIGHT_WIB_S + day * 86400 + 3 * 3600).summary.clients for day in range(7))
    assert evening > 3 * max(night, 1)


def test_clients_join_and_leave() -> None:
    ap, _ = model("mikrotik", seed=6)
    macs = []
    for minute in range(0, 180, 15):
        values = ap.truth(MIDNIGHT_WIB_S + 19 * 3600 + 60 * minute).values
        macs.append({oid.split(".", 14)[-1] for oid in column(values, "1.3.6.1.4.1.14988.1.1.1.2.1.3")})
    joined = any(later - earlier for earlier, later in itertools.pairwise(macs))
    left = any(earlier - later for earlier, later in itertools.pairwise(macs))
    assert joined and left


def test_signal_and_noise_drift_within_bounds() -> None:
    ap, _ = model("airmax", seed=3)
    noise = {
        int_value(ap.truth(MIDNIGHT_WIB_S + 20 * 3600 + 60 * m).values, "1.3.6.1.4.1.41112.1.4.5.1.8.1")
        for m in range(30)
    }
    assert len(noise) > 2 and all(-110 <= value <= -96 for value in noise)


def test_same_seed_and_clock_serve_the_same_values() -> None:
    first, _ = model("unifi", seed=9)
    second, _ = model("unifi", seed=9)
    other, _ = model("unifi", seed=10)
    at_s = MIDNIGHT_WIB_S + 18 * 3600
    assert first.truth(at_s).values == second.truth(at_s).values
    assert first.truth(at_s).values != other.truth(at_s).values


def test_unifi_vap_counters_never_go_backwards_except_by_wrapping() -> None:
    ap, _ = model("unifi", seed=4)
    samples = [ap.truth(MIDNIGHT_WIB_S + 300 * step).values for step in range(48)]
    for earlier, later in itertools.pairwise(samples):
        for oid, (_, value) in column(earlier, "1.3.6.1.4.1.41112.1.6.1.2.1.10").items():
            assert isinstance(value, int)
            assert (int_value(later, oid) - value) % WRAP32 < 300 * 1_000_000


@pytest.mark.hours
def test_summary_agrees_with_the_served_tables(sim_start_s: float) -> None:
    at_s = sim_start_s
    hour = int(local_hour(at_s))  # a seed per hour, so each hour shows another AP too
    mikrotik, _ = model("mikrotik", seed=hour)
    truth = mikrotik.truth(at_s)
    counts = column(truth.values, "1.3.6.1.4.1.14988.1.1.1.3.1.6")
    assert sum(int(v[1]) for v in counts.values()) == truth.summary.clients  # type: ignore[call-overload]
    assert len(column(truth.values, "1.3.6.1.4.1.14988.1.1.1.2.1.3")) == truth.summary.clients
    assert int_value(truth.values, "1.3.6.1.4.1.14988.1.1.1.4.0") == truth.summary.clients
    assert len(column(truth.values, "1.3.6.1.4.1.14988.1.1.5.1.1.3")) == truth.summary.hotspot_users
    unifi, _ = model("unifi", seed=hour)
    truth = unifi.truth(at_s)
    stations = column(truth.values, "1.3.6.1.4.1.41112.1.6.1.2.1.8")
    assert {f"ath{int(oid.rsplit('.', 1)[1]) - 1}": v[1] for oid, v in stations.items()} == (
        truth.summary.clients_per_radio
    )
    airmax, _ = model("airmax", seed=hour)
    truth = airmax.truth(at_s)
    assert (
        int_value(truth.values, "1.3.6.1.4.1.41112.1.4.5.1.15.1") == truth.summary.clients_per_radio["ath0"]
    )
