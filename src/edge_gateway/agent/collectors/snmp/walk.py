"""One device's SNMP link: GETs and column walks with retries, an order guard, a size cap, and a
GETBULK size that halves when the device cannot cope and stays halved for that device.

Guards against real firmware bugs: an agent whose OIDs do not increase would make a naive walk loop
forever; a table that never ends would eat the gateway's memory and, walked again at every poll, the
device's CPU. So a column keeps at most `max_rows` rows (the rest is not asked for; the column is
noted in `capped`), and one poll spends at most `max_requests` requests (`begin_poll` resets the
count): past it the poll is abandoned with `BudgetSpent`, which fails the poll like a dead device, so
a device that cannot be served within its budget is backed off too. Requests of a walk are counted
per page of `max_repetitions` varbinds, before the page is asked for. Error texts name the column,
never the row's OID: a registration table's row OID carries a client's MAC.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from edge_gateway.agent.collectors.snmp.backend import (
    NoResponse,
    SnmpBackend,
    SnmpBackendError,
    TooBig,
    Value,
)

Index = tuple[int, ...]
GET_CHUNK = 24  # varbinds per GET at most: small enough for any agent's datagram


class WalkError(SnmpBackendError):
    """A column's walk was abandoned (OIDs not increasing); the other columns stand."""


class BudgetSpent(SnmpBackendError):
    """This poll asked for as many requests as the device's budget allows: the poll is abandoned."""


def oid_key(oid: str) -> Index:
    return tuple(map(int, oid.strip(".").split(".")))


class Link:
    """The wire to one device. `max_repetitions` is the GETBULK size that currently works for it."""

    def __init__(
        self,
        backend: SnmpBackend,
        max_repetitions: int,
        max_rows: int,
        retries: int,
        max_requests: int = 1_000_000,
    ) -> None:
        self.backend = backend
        self.max_repetitions = max_repetitions
        self.max_rows = max_rows
        self.retries = retries
        self.max_requests = max_requests
        self.requests = 0  # requests sent this poll
        self.answers = 0  # GETs and walks answered this poll: a poll its deadline cut was late, not silent
        self.capped: list[str] = []  # columns cut at max_rows this poll
        self.requests_varbinds = 0  # varbinds received, for the benchmark's per-varbind figures
        self.rows_seen: dict[str, int] = {}  # rows of each column at its last walk

    def begin_poll(self, max_rows: int, max_requests: int) -> None:
        """A new poll, with this device's limits: the request count and the capped columns restart."""
        self.max_rows, self.max_requests = max_rows, max_requests
        self.requests, self.answers, self.capped = 0, 0, []

    def _spend(self) -> None:
        """Count one request about to be sent; refuse it past the budget."""
        if self.requests >= self.max_requests:
            raise BudgetSpent(f"request budget of {self.max_requests} per poll spent (max_requests_per_poll)")
        self.requests += 1

    async def get(self, oids: Sequence[str]) -> dict[str, Value]:
        """Values of the OIDs that exist (absent ones are left out), in GETs of at most
        `max_repetitions` varbinds, the size this device is known to answer."""
        values: dict[str, Value] = {}
        start, retries_left = 0, self.retries
        while start < len(oids):
            size = max(1, min(GET_CHUNK, self.max_repetitions))
            chunk = oids[start : start + size]
            self._spend()
            try:
                answer = await self.backend.get_many(chunk)
            except TooBig:
                if size == 1:
                    raise
                self.max_repetitions = size // 2
                continue
            except NoResponse:
                if retries_left == 0:
                    raise
                retries_left -= 1
                continue
            self.answers += 1
            values.update({oid: value for oid, value in answer.items() if value is not None})
            self.requests_varbinds += len(answer)
            start += size
        return values

    async def walk(self, column: str) -> dict[Index, Value]:
        """Rows of one column by index.

        The GETBULK asks for one row more than the column had last time (so a walk is usually one
        request, and a 4-row table does not bring back 21 varbinds of the next columns to throw
        away), at most `max_repetitions`. TooBig halves the size at once; a timeout halves it for
        the retry; a size that had to be halved becomes this device's `max_repetitions`."""
        seen = self.rows_seen.get(column)
        repetitions = self.max_repetitions if seen is None else max(1, min(self.max_repetitions, seen + 1))
        retries_left, halved = self.retries, False
        while True:
            try:
                rows = await self._walk_once(column, repetitions)
            except TooBig:
                if repetitions == 1:
                    raise
                repetitions, halved = max(1, repetitions // 2), True
                self.max_repetitions = min(self.max_repetitions, repetitions)
                continue
            except NoResponse:
                if retries_left == 0:
                    raise
                retries_left -= 1
                repetitions, halved = max(1, repetitions // 2), True
                continue
            if halved:
                self.max_repetitions = min(self.max_repetitions, repetitions)
            self.rows_seen[column] = len(rows)
            return rows

    async def _walk_once(self, column: str, repetitions: int) -> dict[Index, Value]:
        prefix, start, rows = column + ".", len(column) + 1, dict[Index, Value]()
        last: Index = ()
        received = 0
        self._spend()
        async with contextlib.aclosing(self.backend.bulk_walk(column, repetitions)) as varbinds:
            async for oid, value in varbinds:
                received += 1
                if received == 1:
                    self.answers += 1  # the walk's first reply: the device answers
                if not oid.startswith(prefix):
                    break
                key = tuple(map(int, oid[start:].split(".")))  # the row index: compared within the column
                if key <= last:
                    raise WalkError(f"walk of {column}: OIDs not increasing after {len(rows)} rows")
                last = key
                self.requests_varbinds += 1
                if value is not None:
                    rows[key] = value
                if len(rows) >= self.max_rows:
                    self.capped.append(column)
                    break
                if received % repetitions == 0:  # the next varbind costs the next GETBULK
                    self._spend()
        return rows
