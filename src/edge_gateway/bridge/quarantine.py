"""Quarantine: a gateway that keeps sending lines the database refuses is set aside for a while.

Every refused line costs database requests that the other gateways wait for. A gateway whose messages
had refused lines `after` times within `window_s` is quarantined for `duration_s`: its messages are
then dead-lettered on arrival (reason `quarantined`, replayable with `edge deadletters replay`)
without being written, and acknowledged. Time is an input (`now_s`), so the rule is tested without
waiting.
"""

from __future__ import annotations

import logging
from collections import deque

log = logging.getLogger(__name__)

MAX_TRACKED = 10_000  # gateways with recent refusals remembered at once


class Quarantine:
    def __init__(self, after: int, window_s: float, duration_s: float) -> None:
        self.after = after
        self.window_s = window_s
        self.duration_s = duration_s
        self._refusals: dict[str, deque[float]] = {}
        self.until_s: dict[str, float] = {}

    def refused(self, gateway: str, now_s: float) -> None:
        """A message of the gateway had refused lines."""
        if self.duration_s <= 0:
            return
        times = self._refusals.get(gateway)
        if times is None:
            if len(self._refusals) >= MAX_TRACKED:
                self._refusals.clear()  # forgetting counts only delays a quarantine
            times = self._refusals[gateway] = deque(maxlen=self.after)
        times.append(now_s)
        if len(times) == self.after and now_s - times[0] <= self.window_s:
            times.clear()
            if not self.active(gateway, now_s):
                log.warning(
                    "gateway %s quarantined for %g s: %d messages with lines InfluxDB refuses within %g s",
                    gateway,
                    self.duration_s,
                    self.after,
                    self.window_s,
                )
            self.until_s[gateway] = now_s + self.duration_s

    def gateways(self, now_s: float) -> list[str]:
        """The gateways in quarantine now."""
        return sorted(gw for gw, until_s in self.until_s.items() if now_s < until_s)

    def active(self, gateway: str, now_s: float) -> bool:
        until_s = self.until_s.get(gateway)
        if until_s is None:
            return False
        if now_s < until_s:
            return True
        del self.until_s[gateway]
        log.info("gateway %s out of quarantine", gateway)
        return False
