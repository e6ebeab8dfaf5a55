"""The one backoff policy of every retry loop (exponential, capped, jittered), and the one dead-device
policy of the collectors (`cycles_to_skip`).

Used by the agent's uplink (reconnect and batch retries), the bridge's consumer (reconnect, database
creation), its store (writes while InfluxDB is away) and its alert feed. The delay doubles from
`start_s` up to a cap and starts again at every success; each wait is drawn between half the current
delay and the whole of it, so that a city's gateways (or a farm of bridges) coming back together do
not knock on the broker or the database in step.
"""

from __future__ import annotations

import math
import random

_MAX_DOUBLINGS = 16  # past 2**16 cycles any cap has long been reached; keeps the number small
START_S = 0.5
"""The first delay of every loop: short, so that a blip costs half a second, not a minute."""


class Backoff:
    """The delays of one retry loop; `next_s()` after a failure, `reset()` after a success."""

    def __init__(self, max_s: float, start_s: float = START_S) -> None:
        self.max_s = max_s
        self.start_s = start_s
        self.delay_s = start_s

    def next_s(self, max_s: float | None = None) -> float:
        """The jittered wait before the next attempt; the delay after it doubles up to the cap.

        `max_s` overrides the cap for this step (the uplink waits longer after a refusal).
        """
        wait_s = random.uniform(self.delay_s / 2, self.delay_s)
        self.delay_s = min(self.delay_s * 2, self.max_s if max_s is None else max_s)
        return wait_s

    def reset(self) -> None:
        self.delay_s = self.start_s


def cycles_to_skip(failures: int, interval_s: float, max_s: float) -> int:
    """The one dead-device policy (SNMP devices, serial sensors, cameras), set by `down_backoff_max_s`.

    After the n-th failed poll in a row a device skips 2**(n-1) - 1 of its cycles (tried on cycles 1,
    2, 4, 8 ...), so a dead device costs less and less, and the gap between two tries never exceeds
    `max_s` (a gap of k skipped cycles is k + 1 intervals). A status is still written every cycle.
    """
    max_skip = max(0, math.floor(max_s / interval_s) - 1)
    doublings: int = min(max(failures - 1, 0), _MAX_DOUBLINGS)
    return min((1 << doublings) - 1, max_skip)
