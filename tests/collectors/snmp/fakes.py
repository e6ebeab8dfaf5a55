"""A fake SNMP backend over a dict of OID -> value: trivial, since the backend protocol has 3 methods."""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

from edge_gateway.agent.collectors.snmp.backend import NoResponse, TooBig, Value
from edge_gateway.agent.collectors.snmp.walk import oid_key


@dataclass
class FakeDevice:
    values: dict[str, Value]
    too_big_above: int | None = None  # GETBULK asking more repetitions than this gets tooBig
    timeouts: int = 0  # the next N requests get no answer
    dead: bool = False
    delay_s: float = 0.0
    repeat_at: str | None = None  # the walk yields this OID twice (an agent whose OIDs do not increase)
    endless: str | None = None  # a column whose walk never ends: .1, .2, .3, ... forever
    requests: int = 0  # requests received: one per GET, one per GETBULK page
    asked_repetitions: list[int] = field(default_factory=list)
    _order: list[tuple[tuple[int, ...], str]] = field(default_factory=list)

    def after(self, column: str) -> list[str]:
        """OIDs after `column` in walk order (the values must not change while a poll runs)."""
        if len(self._order) != len(self.values):
            self._order = sorted((oid_key(oid), oid) for oid in self.values)
        keys = self._order
        return [oid for _, oid in keys[bisect.bisect_right(keys, (oid_key(column), "")) :]]


class FakeBackend:
    def __init__(self, device: FakeDevice) -> None:
        self.device = device
        self.closed = False

    async def _answer(self) -> None:
        if self.device.delay_s:
            await asyncio.sleep(self.device.delay_s)
        if self.device.dead:
            raise NoResponse("no response")
        if self.device.timeouts:
            self.device.timeouts -= 1
            raise NoResponse("no response")

    async def get_many(self, oids: Sequence[str]) -> dict[str, Value]:
        self.device.requests += 1
        await self._answer()
        return {oid: self.device.values[oid] for oid in oids if oid in self.device.values}

    async def bulk_walk(self, column: str, max_repetitions: int) -> AsyncGenerator[tuple[str, Value], None]:
        self.device.asked_repetitions.append(max_repetitions)
        self.device.requests += 1
        await self._answer()
        limit = self.device.too_big_above
        if limit is not None and max_repetitions > limit:
            raise TooBig("tooBig")
        sent = 0
        async for oid, value in self._varbinds(column):
            if sent and sent % max_repetitions == 0:  # the next page is another GETBULK
                self.device.requests += 1
            sent += 1
            yield oid, value

    async def _varbinds(self, column: str) -> AsyncGenerator[tuple[str, Value], None]:
        if column == self.device.endless:
            row = 1
            while True:
                yield f"{column}.{row}", row
                row += 1
        for oid in self.device.after(column):
            yield oid, self.device.values[oid]
            if oid == self.device.repeat_at:
                yield oid, self.device.values[oid]

    async def close(self) -> None:
        self.closed = True
