"""Counter arithmetic: wraps, resets, reboots, discontinuities and the speed cap."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edge_gateway.agent.collectors.snmp.counters import Sample, rate_per_s
from edge_gateway.drivers.counters import counter_delta


def test_32_bit_counter_that_went_back_wrapped() -> None:
    assert counter_delta(2**32 - 100, 50, bits=32) == 150


def test_64_bit_counter_that_went_back_was_reset_not_wrapped() -> None:
    assert counter_delta(10_000, 50, bits=64) is None


@given(start=st.integers(0, 2**32 - 1), growth=st.integers(0, 2**32 - 1))
def test_32_bit_delta_is_the_growth_modulo_2_32(start: int, growth: int) -> None:
    assert counter_delta(start, (start + growth) % 2**32, bits=32) == growth


def test_octets_become_bits_per_second() -> None:
    rate = rate_per_s(Sample(1_000, 10.0, 100.0), Sample(2_000, 20.0, 110.0), 64)
    assert rate == 800.0


def test_interval_across_a_reboot_is_dropped() -> None:
    assert rate_per_s(Sample(5_000_000, 10.0, 9_000.0), Sample(100, 40.0, 20.0), 32) is None


def test_interval_across_a_counter_discontinuity_is_dropped() -> None:
    previous, current = Sample(100, 0.0, 50.0, discontinuity=0), Sample(200, 30.0, 80.0, discontinuity=7000)
    assert rate_per_s(previous, current, 64) is None


def test_reset_of_a_64_bit_counter_is_dropped_not_a_spike() -> None:
    assert rate_per_s(Sample(10**12, 0.0, 50.0), Sample(10, 30.0, 80.0), 64) is None


def test_no_time_elapsed_gives_no_rate() -> None:
    assert rate_per_s(Sample(0, 5.0, 1.0), Sample(100, 5.0, 1.0), 64) is None


def test_rate_is_capped_at_the_interface_speed() -> None:
    # 10 Mbit/s link, 1.3 MB in one second = 10.4 Mbit/s (timing jitter): capped to the speed
    rate = rate_per_s(Sample(0, 0.0, 0.0), Sample(1_300_000, 1.0, 1.0), 64, max_rate=10_000_000)
    assert rate == 10_000_000


def test_rate_far_above_the_speed_is_dropped() -> None:
    # a 32-bit reset seen as a wrap gives ~4 GB in 30 s on a 10 Mbit/s link: impossible, dropped
    rate = rate_per_s(Sample(2**31, 0.0, 0.0), Sample(5, 30.0, 30.0), 32, max_rate=10_000_000)
    assert rate is None
