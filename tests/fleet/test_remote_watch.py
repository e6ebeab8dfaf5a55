"""The rollback watch judges complete poll rounds over its window; time is an input, no clock read."""

from __future__ import annotations

import pytest

from edge_gateway.agent.remote_watch import MAX_EXTRA_WAIT_S, RoundWatch, down_now
from edge_gateway.agent.scheduler import MAX_START_STAGGER_S
from edge_gateway.agent.status import DeviceState

pytestmark = pytest.mark.fleet

S = 1_000_000_000
APPLIED_NS = 1_800_000_000 * S  # any instant will do


def board(**polls: tuple[float, bool]) -> dict[str, DeviceState]:
    """Devices by name, each last polled `after_s` seconds after the apply, up or down."""
    found = {}
    for name, (after_s, up) in polls.items():
        state = DeviceState("snmp", "site")
        state.polled(up, APPLIED_NS + int(after_s * S))
        state.last_poll_ns = APPLIED_NS + int(after_s * S)
        found[name] = state
    return found


def at(after_s: float) -> int:
    return APPLIED_NS + int(after_s * S)


def test_a_device_failing_only_at_its_late_first_poll_is_caught_after_the_window() -> None:
    watch = RoundWatch({"fast": 1.0, "slow": 30.0}, down_before=0, applied_ns=APPLIED_NS, window_s=3)
    assert watch.check(board(fast=(2.5, True), slow=(-1, True)), at(2.9)) is None
    assert watch.check(board(fast=(3.5, True), slow=(-1, True)), at(3.6)) is None  # slow not polled yet
    verdict = watch.check(board(fast=(11.5, True), slow=(11.0, False)), at(11.6))
    assert verdict is not None and verdict.rollback
    assert "1 devices down after the apply (slow), 0 before" in verdict.why


def test_a_broken_device_rolls_back_at_the_first_complete_round_not_at_the_window_end() -> None:
    watch = RoundWatch({"a": 1.0, "b": 1.0}, down_before=0, applied_ns=APPLIED_NS, window_s=60)
    verdict = watch.check(board(a=(0.4, True), b=(0.6, False)), at(0.7))
    assert verdict is not None and verdict.rollback


def test_a_config_failing_after_a_good_first_round_is_still_rolled_back() -> None:
    watch = RoundWatch({"a": 1.0}, down_before=0, applied_ns=APPLIED_NS, window_s=10)
    assert watch.check(board(a=(0.5, True)), at(0.6)) is None  # round 1 complete and good
    assert watch.check(board(a=(0.5, True)), at(1.2)) is None  # round 2 open: a not polled since 0.6
    verdict = watch.check(board(a=(1.5, False)), at(1.6))
    assert verdict is not None and verdict.rollback


def test_a_good_config_with_a_slow_device_is_kept_once_the_slow_one_reported() -> None:
    watch = RoundWatch({"fast": 1.0, "slow": 20.0}, down_before=0, applied_ns=APPLIED_NS, window_s=3)
    assert watch.check(board(fast=(3.5, True)), at(3.6)) is None
    verdict = watch.check(board(fast=(9.5, True), slow=(9.0, True)), at(9.6))
    assert verdict is not None and not verdict.rollback
    assert verdict.why == "kept after 1 complete rounds"


def test_as_many_down_as_before_is_kept() -> None:
    watch = RoundWatch({"a": 1.0, "dead": 1.0}, down_before=1, applied_ns=APPLIED_NS, window_s=2)
    assert watch.check(board(a=(0.5, True), dead=(0.5, False)), at(0.6)) is None
    verdict = watch.check(board(a=(2.5, True), dead=(2.5, False)), at(2.6))
    assert verdict is not None and not verdict.rollback


def test_a_device_that_never_reports_is_waited_for_up_to_the_bound_then_judged_without_it() -> None:
    watch = RoundWatch({"a": 1.0, "mute": 10.0}, down_before=0, applied_ns=APPLIED_NS, window_s=3)
    bound_s = 3 + 10 + MAX_START_STAGGER_S
    assert watch.wait_s(at(3.5)) == pytest.approx(bound_s - 3.5)
    assert watch.check(board(a=(bound_s - 0.5, True)), at(bound_s - 0.1)) is None
    verdict = watch.check(board(a=(bound_s - 0.5, True)), at(bound_s))
    assert verdict is not None and not verdict.rollback and "not polled in time: mute" in verdict.why


def test_the_wait_for_a_slow_device_is_capped() -> None:
    watch = RoundWatch({"daily": 86_400.0}, down_before=0, applied_ns=APPLIED_NS, window_s=3)
    assert watch.wait_s(at(3)) == pytest.approx(MAX_EXTRA_WAIT_S)


def test_down_counts_only_polled_devices_of_the_config() -> None:
    devices = board(a=(1, False), b=(1, True), gone=(1, False))
    devices["never"] = DeviceState("snmp", "site")
    assert down_now(devices, {"a", "b", "never"}) == ["a"]
