"""Storing a batch of lines whatever happens: retry what the database cannot take now, split what it refuses.

Two kinds of failure, two answers:

* The database is down, overloaded or unreachable (connection errors, timeouts, 5xx, 429, ...): the
  same lines will succeed later, so wait (the server's `Retry-After` if it gave one, else a jittered
  exponential backoff up to `retry_max_s`) and try again, forever. Meanwhile nothing is acknowledged
  to the broker, which keeps the messages: a database outage delays data, never loses it.
* The database refuses the data itself (400, 413, 422): some lines are bad (InfluxDB 1.x writes the
  others and answers `partial write: ...`; other servers refuse the whole request). Bisect the batch:
  halves that are accepted are stored (writing a line InfluxDB already took is harmless: same series
  and timestamp, the point is overwritten with itself), halves refused are split again, down to the
  single lines to dead-letter. A batch with k bad lines in n costs about 2·k·log2(n) extra requests.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bridge.influx import WriteError

log = logging.getLogger(__name__)

RETRY_START_S = 0.5
RETRY_AFTER_MIN_S = 0.05  # a `Retry-After: 0` must not turn into a busy loop


class Writer(Protocol):
    async def write(self, lines: Sequence[str]) -> None: ...


@dataclass
class StoreStats:
    requests: int = 0
    failed_requests: int = 0
    points: int = 0
    rejected_lines: int = 0
    healthy: bool | None = None  # None until the first answer: nothing was written yet


class Store:
    def __init__(
        self,
        writer: Writer,
        retry_max_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.writer = writer
        self.retry_max_s = retry_max_s
        self.sleep = sleep
        self.stats = StoreStats()

    async def store(self, lines: Sequence[str]) -> list[tuple[str, str]]:
        """Store the lines; return those the database refused, each with its reason.

        Returns only when every line is either stored or refused; retries forever until then.
        """
        rejected: list[tuple[str, str]] = []
        if lines:
            await self._bisect(lines, rejected)
        self.stats.rejected_lines += len(rejected)
        self.stats.points += len(lines) - len(rejected)
        return rejected

    async def _bisect(self, lines: Sequence[str], rejected: list[tuple[str, str]]) -> None:
        try:
            await self.write_retrying(lines)
        except WriteError as exc:
            if len(lines) == 1:
                rejected.append((lines[0], str(exc)))
                return
            middle = len(lines) // 2
            await self._bisect(lines[:middle], rejected)
            await self._bisect(lines[middle:], rejected)

    async def write_retrying(self, lines: Sequence[str]) -> None:
        """One write, retried until the database takes it; raise the WriteError of a refusal."""
        delay_s = RETRY_START_S
        while True:
            self.stats.requests += 1
            try:
                await self.writer.write(lines)
            except WriteError as exc:
                if not exc.retryable:
                    self._answered()
                    raise
                self.stats.failed_requests += 1
                if self.stats.healthy is not False:
                    log.warning("InfluxDB write failed (%s); retrying until it works", exc)
                self.stats.healthy = False
                if exc.retry_after_s is not None:
                    await self.sleep(max(exc.retry_after_s, RETRY_AFTER_MIN_S))
                else:
                    await self.sleep(random.uniform(delay_s / 2, delay_s))
                delay_s = min(delay_s * 2, self.retry_max_s)
                continue
            self._answered()
            return

    def _answered(self) -> None:
        if self.stats.healthy is False:
            log.info("InfluxDB takes writes again")
        self.stats.healthy = True
