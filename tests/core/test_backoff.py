"""The one backoff policy: jittered within [delay/2, delay], doubling up to the cap, reset on success."""

from __future__ import annotations

from edge_gateway.core.backoff import START_S, Backoff, cycles_to_skip


def test_delays_double_up_to_the_cap_with_jitter_below_each() -> None:
    backoff = Backoff(max_s=5.0)
    bounds = [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    for delay_s in bounds:
        assert delay_s / 2 <= backoff.next_s() <= delay_s


def test_reset_starts_again_from_the_first_delay() -> None:
    backoff = Backoff(max_s=60.0)
    for _ in range(5):
        backoff.next_s()
    backoff.reset()
    assert START_S / 2 <= backoff.next_s() <= START_S


def test_a_step_may_use_another_cap() -> None:
    backoff = Backoff(max_s=5.0)
    for _ in range(10):
        backoff.next_s(max_s=60.0)
    assert 30.0 <= backoff.next_s(max_s=60.0) <= 60.0


def test_a_dead_device_is_tried_on_cycles_1_2_4_8_and_never_more_than_the_cap_apart() -> None:
    skips = [cycles_to_skip(failures, interval_s=10.0, max_s=60.0) for failures in range(1, 8)]
    assert skips == [0, 1, 3, 5, 5, 5, 5]  # 6 intervals between tries at most: 60 s
    assert cycles_to_skip(10_000, interval_s=10.0, max_s=60.0) == 5
    assert cycles_to_skip(3, interval_s=30.0, max_s=20.0) == 0  # a cap below the interval: every cycle
