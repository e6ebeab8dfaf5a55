"""The dashboards' truth of a rate holds when a poll read its in and out columns in different seconds.

The agent walks each column with its own requests, so a poll that crosses a second boundary reads
ifHCInOctets in one second and ifHCOutOctets in the next (CI saw it: an out rate of three counter
steps where the truth counted two, a bucket 25 % off). No servers: the stored rows are made here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import tests.integration.fleet_truth as fleet_truth
from tests.integration.fleet_truth import FleetRun, FleetTruth

POLL_S, POLLS, LATE_POLL = 2, 15, 7
AP, IFNAME = "ap-001", "WAN"  # a MikroTik of the fleet, traffic both ways


@pytest.mark.parametrize("late", ["in", "out"])
def test_each_direction_finds_the_second_it_was_read(monkeypatch: pytest.MonkeyPatch, late: str) -> None:
    start_s = datetime.fromisoformat("2026-12-01T23:59:30+07:00").timestamp()
    truth = FleetTruth(FleetRun("http://unused", Path("unused.toml"), start_s, 0.0, 0.0, 0.0))
    boot_s, first_s = truth.aps[AP].boot_s, int(start_s)
    polls = [(i * POLL_S * 10**9, first_s + i * POLL_S) for i in range(POLLS)]

    def read_at(poll: int, direction: str) -> int:
        return polls[poll][1] + (1 if poll == LATE_POLL and direction == late else 0)

    stored = {
        polls[k][0]: tuple(
            truth._bps(AP, IFNAME, n, read_at(k - 1, d), read_at(k, d), POLL_S)
            for n, d in enumerate(("in", "out"))
        )
        for k in range(1, POLLS)
    }

    def query(_url: str, _db: str, text: str) -> list[dict[str, Any]]:
        if '"uptime_s"' in text:
            return [{"values": [[t, s - boot_s] for t, s in polls]}]
        return [{"values": [[t, i, o] for t, (i, o) in stored.items()]}]

    monkeypatch.setattr(fleet_truth, "influx_query", query)
    rates = truth.poll_bps(AP, IFNAME)
    late_rates = [stored[polls[k][0]] for k in (LATE_POLL, LATE_POLL + 1)]
    assert len({pair[0 if late == "in" else 1] for pair in late_rates}) == 2  # the late read shows
    assert rates == stored
