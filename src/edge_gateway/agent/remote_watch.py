"""Judging a remotely applied config over its watch window, not at one instant.

A single look `rollback_after_s` after the apply misses a device whose first poll comes later (a long
interval, the start stagger, a slow timeout) and keeps a config that breaks things just after that
look. So the watch judges complete poll rounds: a round is complete when every device of the applied
config has reported a `device_status` since the round began; at the end of each round the devices
down are counted against those down before the apply, and more means roll back at once. A round still
open when the window ends is waited for, up to `longest interval + MAX_START_STAGGER_S` (capped by
`MAX_EXTRA_WAIT_S`), then judged on the devices that did report. The last complete round at or after
the end of the window keeps the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge_gateway.agent.scheduler import MAX_START_STAGGER_S

if TYPE_CHECKING:
    from edge_gateway.agent.config import AgentConfig
    from edge_gateway.agent.status import DeviceState

MAX_EXTRA_WAIT_S = 900.0  # a camera polled once a day is not waited for all day


def device_intervals(config: AgentConfig) -> dict[str, float]:
    """Every device of `config` by the name its `device_status` carries, with its poll interval."""
    found = {device.name: device.interval_s for device in config.snmp.devices}
    found |= {camera.name: camera.interval_s for camera in config.camera.devices}
    return found | {sensor.name: sensor.interval_s for bus in config.serial.buses for sensor in bus.sensors}


def down_now(board: Mapping[str, DeviceState], names: frozenset[str] | set[str]) -> list[str]:
    """The devices among `names` whose last poll said down (never polled: not counted)."""
    return sorted(name for name in names if (s := board.get(name)) and s.last_poll_ns and not s.up)


@dataclass
class Verdict:
    rollback: bool
    why: str


class RoundWatch:
    """Feeds on the agent's board (`check`) until it returns a verdict; pure, so time is an input."""

    def __init__(
        self, intervals: Mapping[str, float], down_before: int, applied_ns: int, window_s: float
    ) -> None:
        self.devices = frozenset(intervals)
        self.down_before = down_before
        self.round_ns = applied_ns
        self.rounds = 0
        self.window_end_ns = applied_ns + int(window_s * 1e9)
        longest_s = max(intervals.values(), default=0.0)
        extra_s = min(longest_s + MAX_START_STAGGER_S, MAX_EXTRA_WAIT_S)
        self.give_up_ns = self.window_end_ns + int(extra_s * 1e9)

    def check(self, board: Mapping[str, DeviceState], now_ns: int) -> Verdict | None:
        """None while the watch goes on; else whether to roll back and why."""
        polled = {name for name in self.devices if (s := board.get(name)) and s.last_poll_ns >= self.round_ns}
        complete = polled == self.devices
        if not complete and now_ns < self.give_up_ns:
            return None
        down = down_now(board, polled)
        if len(down) > self.down_before:
            why = f"{len(down)} devices down after the apply ({', '.join(down)}), {self.down_before} before"
            return Verdict(True, why)
        if not complete:
            missing = ", ".join(sorted(self.devices - polled))
            return Verdict(False, f"kept after {self.rounds} complete rounds; not polled in time: {missing}")
        self.rounds += 1
        if now_ns >= self.window_end_ns:
            return Verdict(False, f"kept after {self.rounds} complete rounds")
        self.round_ns = now_ns
        return None

    def wait_s(self, now_ns: int) -> float:
        """How long to wait for the next poll at most: a check is due at the window's end and at the bound."""
        due_ns = self.window_end_ns if now_ns < self.window_end_ns else self.give_up_ns
        return max(due_ns - now_ns, 0) / 1e9
