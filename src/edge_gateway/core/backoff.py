"""The one backoff policy of every retry loop: exponential, capped, jittered.

Used by the agent's uplink (reconnect and batch retries), the bridge's consumer (reconnect, database
creation), its store (writes while InfluxDB is away) and its alert feed. The delay doubles from
`start_s` up to a cap and starts again at every success; each wait is drawn between half the current
delay and the whole of it, so that a city's gateways (or a farm of bridges) coming back together do
not knock on the broker or the database in step.
"""

from __future__ import annotations

import random

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
