"""Cumulative counts to volumes: wraps at 16 and 32 bits, reboots, discontinuities."""

from __future__ import annotations

import pytest

from edge_gateway.drivers.counters import counter_delta, uptime_went_back


@pytest.mark.parametrize(
    ("previous", "current", "bits", "delta"),
    [
        (100, 130, 16, 30),
        (65530, 4, 16, 10),
        (65535, 0, 16, 1),
        (4294967290, 5, 32, 11),
        (7, 7, 32, 0),
        (None, 5, 32, None),
        (70000, 5, 16, None),  # cannot come from a 16-bit register
    ],
)
def test_counter_delta(previous: int | None, current: int, bits: int, delta: int | None) -> None:
    assert counter_delta(previous, current, bits=bits) == delta


def test_reboot_gives_none_not_a_wrap() -> None:
    assert counter_delta(500, 3, bits=32, rebooted=True) is None
    assert counter_delta(500, 3, bits=32) == 2**32 - 497


def test_max_delta_catches_an_unannounced_reset() -> None:
    assert counter_delta(500, 3, bits=16, max_delta=5000) is None
    assert counter_delta(65000, 300, bits=16, max_delta=5000) == 836


def test_bits_must_be_a_counter_width() -> None:
    with pytest.raises(ValueError, match="bits"):
        counter_delta(1, 2, bits=8)


def test_uptime_went_back() -> None:
    assert uptime_went_back(120, 5)
    assert not uptime_went_back(120, 180)
    assert not uptime_went_back(None, 5)


def test_a_64_bit_counter_that_went_back_was_reset() -> None:
    assert counter_delta(10_000, 50, bits=64) is None
    assert counter_delta(50, 10_000, bits=64) == 9_950
