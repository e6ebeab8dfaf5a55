"""Storing a batch of lines whatever happens: retry what the database cannot take now, split what it refuses.

Two kinds of failure, two answers:

* The database is down, overloaded or unreachable (connection errors, timeouts, 5xx, 429, ...): the
  same lines will succeed later, so wait (the server's `Retry-After` if it gave one, else a jittered
  exponential backoff up to `retry_max_s`) and try again, forever. Meanwhile nothing is acknowledged
  to the broker, which keeps the messages: a database outage delays data, never loses it.
* The database refuses the data itself (400, 413, 422): some lines are bad (InfluxDB 1.x writes the
  others and answers `partial write: ...`; other servers refuse the whole request). Writing again a
  line InfluxDB already took is harmless (same series and timestamp: the point overwrites itself), so
  the good lines are simply written again, without the bad ones. Finding the bad ones costs requests,
  which one gateway must not be able to spend for all, so, cheapest first:
  1. the lines of a gateway under watch (it sent a type conflict before) are checked against the
     bridge's cache of field types (src/edge_gateway/bridge/fieldtypes.py) before any write;
  2. a refusal that names a field type conflict teaches the cache; the lines that now conflict are
     set aside and the rest written again;
  3. only then, as a last resort, bisection: over whole gateways first (a good gateway's lines are
     never refused for another's), then over the lines of a refused gateway, within
     `max_refused_requests` requests per batch; lines still not isolated when that budget is spent
     are refused together (dead-lettered, replayable). A gateway that keeps sending refused lines
     is quarantined by the consumer (src/edge_gateway/bridge/quarantine.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from edge_gateway.bridge.fieldtypes import FieldTypes, gateway_of_line
from edge_gateway.bridge.influx import WriteError
from edge_gateway.core.backoff import Backoff

log = logging.getLogger(__name__)

RETRY_AFTER_MIN_S = 0.05  # a `Retry-After: 0` must not turn into a busy loop
MAX_WATCHED = 10_000  # gateways whose lines are checked before writing


class Writer(Protocol):
    async def write(self, lines: Sequence[str]) -> None: ...


@dataclass
class StoreStats:
    requests: int = 0
    failed_requests: int = 0
    points: int = 0
    rejected_lines: int = 0
    refused_requests: int = 0  # requests the database refused (400, 413, 422)
    healthy: bool | None = None  # None until the first answer: nothing was written yet


class Store:
    def __init__(
        self,
        writer: Writer,
        retry_max_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_refused_requests: int = 16,
    ) -> None:
        self.writer = writer
        self.retry_max_s = retry_max_s
        self.sleep = sleep
        self.max_refused_requests = max_refused_requests
        self.stats = StoreStats()
        self.types = FieldTypes()
        self.watched: set[str] = set()

    async def store(self, lines: Sequence[str]) -> list[tuple[str, str]]:
        """Store the lines; return those the database refused, each with its reason.

        Returns only when every line is either stored or refused; retries forever until then.
        """
        rejected: list[tuple[str, str]] = []
        todo = self._screen(lines, rejected, watched_only=True) if self.watched else lines
        if todo:
            await self._write_isolating(todo, rejected, [self.max_refused_requests])
        self.stats.rejected_lines += len(rejected)
        self.stats.points += len(lines) - len(rejected)
        return rejected

    async def _write_isolating(
        self, lines: Sequence[str], rejected: list[tuple[str, str]], budget: list[int]
    ) -> None:
        error = await self._try(lines)
        if error is None:
            if self.watched:
                self.types.learn([line for line in lines if gateway_of_line(line) in self.watched])
            return
        while budget[0] > 0:
            self.types.learn_from_error(str(error))
            kept = self._screen(lines, rejected, watched_only=False)
            if len(kept) == len(lines):
                break  # nothing the cache knows explains the refusal
            lines = kept
            if not lines:
                return
            budget[0] -= 1
            error = await self._try(lines)
            if error is None:
                self.types.learn(list(lines))
                return
        by_gateway: dict[str, list[str]] = {}
        for line in lines:
            by_gateway.setdefault(gateway_of_line(line), []).append(line)
        await self._gateways(list(by_gateway.values()), error, rejected, budget)

    async def _gateways(
        self, groups: list[list[str]], error: WriteError, rejected: list[tuple[str, str]], budget: list[int]
    ) -> None:
        """Bisect over whole gateways first (outside the budget: about 2·log2(gateways) requests per
        bad gateway), so a good gateway's lines are never refused for another's; then over lines."""
        if len(groups) == 1:
            await self._split(groups[0], error, rejected, budget)
            return
        middle = len(groups) // 2
        for half in (groups[:middle], groups[middle:]):
            refusal = await self._try([line for group in half for line in group])
            if refusal is not None:
                await self._gateways(half, refusal, rejected, budget)

    async def _bisect(
        self, lines: Sequence[str], error: WriteError, rejected: list[tuple[str, str]], budget: list[int]
    ) -> None:
        """Write the lines; if refused, split them, all within the batch's budget of requests."""
        if budget[0] <= 0:
            reason = f"refused, not isolated within {self.max_refused_requests} requests: {error}"
            rejected.extend((line, reason) for line in lines)
            return
        budget[0] -= 1
        refusal = await self._try(lines)
        if refusal is not None:
            await self._split(lines, refusal, rejected, budget)

    async def _split(
        self, lines: Sequence[str], error: WriteError, rejected: list[tuple[str, str]], budget: list[int]
    ) -> None:
        if len(lines) == 1:
            rejected.append((lines[0], str(error)))
            self.types.learn_from_error(str(error))
            return
        middle = len(lines) // 2
        await self._bisect(lines[:middle], error, rejected, budget)
        await self._bisect(lines[middle:], error, rejected, budget)

    def _screen(self, lines: Sequence[str], rejected: list[tuple[str, str]], watched_only: bool) -> list[str]:
        """The lines that do not conflict with a known field type; the others are refused here.

        A gateway with a conflicting line is watched from now on: its lines are checked before writing.
        """
        kept: list[str] = []
        for line in lines:
            gateway = gateway_of_line(line)
            reason = None if watched_only and gateway not in self.watched else self.types.conflict(line)
            if reason is None:
                kept.append(line)
                continue
            rejected.append((line, reason))
            if len(self.watched) < MAX_WATCHED:
                self.watched.add(gateway)
        return kept

    async def _try(self, lines: Sequence[str]) -> WriteError | None:
        """One write (retried while the database is away); the refusal, or None once stored."""
        try:
            await self.write_retrying(lines)
        except WriteError as exc:
            self.stats.refused_requests += 1
            return exc
        return None

    async def write_retrying(self, lines: Sequence[str]) -> None:
        """One write, retried until the database takes it; raise the WriteError of a refusal."""
        backoff = Backoff(self.retry_max_s)
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
                wait_s = backoff.next_s()
                if exc.retry_after_s is not None:
                    wait_s = max(exc.retry_after_s, RETRY_AFTER_MIN_S)
                await self.sleep(wait_s)
                continue
            self._answered()
            return

    def _answered(self) -> None:
        if self.stats.healthy is False:
            log.info("InfluxDB takes writes again")
        self.stats.healthy = True
