"""The one backoff policy: jittered within [delay/2, delay], doubling up to the cap, reset on success."""

from __future__ import annotations

from edge_gateway.core.backoff import START_S, Backoff


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
