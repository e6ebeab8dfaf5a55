"""The staged rollout's pure parts: stages, health from a status, and what `edge fleet push` prints."""

from __future__ import annotations

import pytest

from edge_gateway.bridge.fleet_rollout import HEALTHY, JUDGING, Rollout, describe, health_of, stages_of

pytestmark = pytest.mark.fleet
TARGETS = ["gw-1", "gw-2", "gw-3", "gw-4"]


def test_canaries_first_then_the_rest_and_one_stage_without_canary() -> None:
    assert stages_of(TARGETS, 2) == [["gw-1", "gw-2"], ["gw-3", "gw-4"]]
    assert stages_of(TARGETS, 0) == [TARGETS]
    assert stages_of(TARGETS, 4) == [TARGETS]  # as many canaries as targets: one stage


def test_healthy_only_online_and_running_the_pushed_version() -> None:
    assert health_of({"state": "online", "config_version": 7}, 7) == HEALTHY
    rolled = {"state": "online", "config_version": 6, "config_outcome": "rolled back: 1 collectors failing"}
    assert health_of(rolled, 7) == "online, running config version 6, rolled back: 1 collectors failing"
    assert health_of({"state": "offline", "config_version": 7}, 7).startswith("offline")


def test_a_canary_still_watching_the_config_is_not_healthy_yet() -> None:
    """It may still roll back: the next stage waits until it has kept the config."""
    watching = {"state": "online", "config_version": 7, "config_watching": True}
    assert health_of(watching, 7) == JUDGING
    assert health_of({**watching, "config_watching": False}, 7) == HEALTHY


def test_a_stop_says_which_stage_which_gateway_and_what_was_not_pushed() -> None:
    report = Rollout(
        stages=[{"gw-1": "applied version 7", "gw-2": "refused: snmp.devices[0].interval_s: too small"}],
        stopped_at=0,
        not_pushed=["gw-3", "gw-4"],
        failed=["gw-2"],
    )
    assert not report.ok
    assert describe(report) == [
        "gw-1: applied version 7",
        "gw-2: refused: snmp.devices[0].interval_s: too small",
        "stopped at stage 1 (canary): gw-2: refused: snmp.devices[0].interval_s: too small",
        "not pushed: gw-3, gw-4",
    ]


def test_a_single_stage_prints_only_the_outcomes() -> None:
    report = Rollout(stages=[{"gw-1": "no answer"}], stopped_at=0, failed=["gw-1"])
    assert describe(report) == ["gw-1: no answer"]


def test_a_gateway_restarting_for_the_config_is_healthy_only_from_its_new_start() -> None:
    before_exit = {"state": "online", "config_version": 7, "time_s": 1000.0, "uptime_s": 500.0}
    assert health_of(before_exit, 7, started_after_s=990.0).endswith("not restarted yet")
    again = {"state": "online", "config_version": 7, "time_s": 1010.0, "uptime_s": 5.0}
    assert health_of(again, 7, started_after_s=990.0) == HEALTHY
    assert health_of({"state": "online", "config_version": 7, "uptime_s": "x"}, 7, 990.0) != HEALTHY
