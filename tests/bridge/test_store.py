"""Retry and bisection of the store, against a fake database that behaves like InfluxDB 1.x."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from edge_gateway.bridge.fieldtypes import field_type
from edge_gateway.bridge.influx import WriteError
from edge_gateway.bridge.store import Store
from edge_gateway.core.lineproto import parse


class FakeInflux:
    """Stores the good lines of each request and, like InfluxDB 1.x, refuses the bad ones with a 400
    `partial write`; `outages` answers that many requests with 503 (and `retry_after_s`) first."""

    def __init__(self, outages: int = 0, retry_after_s: float | None = None) -> None:
        self.stored: list[str] = []
        self.requests: list[int] = []
        self.outages = outages
        self.retry_after_s = retry_after_s

    async def write(self, lines: Sequence[str]) -> None:
        self.requests.append(len(lines))
        if self.outages:
            self.outages -= 1
            raise WriteError("HTTP 503: down", True, self.retry_after_s, 503)
        bad = [line for line in lines if "bad" in line]
        self.stored.extend(line for line in lines if "bad" not in line)
        if bad:
            raise WriteError(f"HTTP 400: partial write: dropped={len(bad)}", False, None, 400)


class Sleeps:
    def __init__(self) -> None:
        self.delays_s: list[float] = []

    async def __call__(self, delay_s: float) -> None:
        self.delays_s.append(delay_s)


LINES = [f"m x={i}i {i}" for i in range(100)]


async def test_a_good_batch_is_one_request() -> None:
    influx = FakeInflux()
    store = Store(influx, retry_max_s=30, sleep=Sleeps())
    assert await store.store(LINES) == []
    assert influx.requests == [100] and influx.stored == LINES
    assert (store.stats.points, store.stats.healthy) == (100, True)


@pytest.mark.parametrize("bad_at", [[0], [57], [99], [3, 4, 80]])
async def test_a_partial_write_dead_letters_the_bad_lines_and_keeps_the_good(bad_at: list[int]) -> None:
    lines = [f"bad x={i}i {i}" if i in bad_at else line for i, line in enumerate(LINES)]
    influx = FakeInflux()
    store = Store(influx, retry_max_s=30, sleep=Sleeps(), max_refused_requests=64)
    refused = await store.store(lines)
    assert [line for line, _ in refused] == [lines[i] for i in bad_at]
    assert all("partial write" in reason for _, reason in refused)
    assert set(influx.stored) == {line for line in lines if "bad" not in line}
    assert len(influx.requests) <= 1 + 2 * len(bad_at) * 7  # bisection, not line by line
    assert (store.stats.points, store.stats.rejected_lines) == (100 - len(bad_at), len(bad_at))


async def test_an_outage_is_retried_with_growing_jittered_backoff_up_to_the_cap() -> None:
    influx = FakeInflux(outages=8)
    sleeps = Sleeps()
    store = Store(influx, retry_max_s=4, sleep=sleeps)
    assert await store.store(LINES) == []
    assert influx.stored == LINES and len(influx.requests) == 9
    caps = [0.5, 1, 2, 4, 4, 4, 4, 4]
    assert all(cap / 2 <= delay <= cap for delay, cap in zip(sleeps.delays_s, caps, strict=True))
    assert store.stats.failed_requests == 8 and store.stats.healthy is True


async def test_retry_after_is_honoured() -> None:
    influx = FakeInflux(outages=2, retry_after_s=7.5)
    sleeps = Sleeps()
    store = Store(influx, retry_max_s=1, sleep=sleeps)
    assert await store.store(LINES) == []
    assert sleeps.delays_s == [7.5, 7.5]


async def test_health_is_false_while_the_database_is_down() -> None:
    influx = FakeInflux(outages=1)
    seen: list[bool | None] = []
    store = Store(influx, retry_max_s=1)

    async def sleep(_: float) -> None:
        seen.append(store.stats.healthy)

    store.sleep = sleep
    assert store.stats.healthy is None
    await store.store(LINES)
    assert seen == [False] and store.stats.healthy is True


class TypedInflux:
    """Like InfluxDB 1.x: a field's first type sticks; conflicting lines are refused (naming the first
    conflict), the others stored."""

    def __init__(self) -> None:
        self.types: dict[tuple[str, str], str] = {}
        self.stored: list[str] = []
        self.requests = 0

    async def write(self, lines: Sequence[str]) -> None:
        self.requests += 1
        conflicts = []
        for line in lines:
            reading = parse(line)
            for name, value in reading.fields.items():
                kind = field_type(value)
                known = self.types.setdefault((reading.measurement, name), kind)
                if known != kind:
                    conflicts.append(
                        f'input field "{name}" on measurement "{reading.measurement}" is type {kind}, '
                        f"already exists as type {known}"
                    )
                    break
            else:
                self.stored.append(line)
        if conflicts:
            raise WriteError(
                f"HTTP 400: partial write: field type conflict: {conflicts[0]} dropped={len(conflicts)}",
                False,
                None,
                400,
            )


def typed_lines(gateway: str, count: int, value: str, start: int = 0) -> list[str]:
    return [f"ap,device=d{i},gateway={gateway} clients={value} {start + i}" for i in range(count)]


async def test_type_conflicts_cost_a_bounded_number_of_requests_and_spare_the_other_gateway() -> None:
    influx = TypedInflux()
    store = Store(influx, retry_max_s=1, sleep=Sleeps())
    assert await store.store(typed_lines("good", 10, "1i")) == []  # clients is an integer now
    batch = typed_lines("bad", 5000, '"x"') + typed_lines("good", 100, "2i", 100)
    refused = await store.store(batch)
    assert len(refused) == 5000 and all("field type conflict" in reason for _, reason in refused)
    assert influx.requests <= 1 + 2  # the refused write, and the rest written again
    assert len({line for line in influx.stored if "gateway=good" in line}) == 110
    # The bad gateway is watched now: its next conflicts are caught before any write.
    before = influx.requests
    refused = await store.store(typed_lines("bad", 500, '"y"', 9000) + typed_lines("good", 5, "3i", 900))
    assert len(refused) == 500 and influx.requests == before + 1
    assert store.stats.refused_requests == 1


async def test_bisection_is_the_last_resort_and_stays_within_the_budget() -> None:
    influx = FakeInflux()
    store = Store(influx, retry_max_s=1, sleep=Sleeps(), max_refused_requests=8)
    lines = [f"bad,gateway=evil x={i}i {i}" for i in range(1000)]
    lines += [f"m,gateway=gw{g} x={i}i {i}" for g in range(8) for i in range(50)]
    refused = await store.store(lines)
    assert {line for line in influx.stored} == {line for line in lines if "evil" not in line}
    assert {line for line, _ in refused} == {line for line in lines if "evil" in line}
    assert any("not isolated within 8 requests" in reason for _, reason in refused)
    # One refused write, about 2·log2(9) to find the gateway, then the budget.
    assert len(influx.requests) <= 1 + 2 * 4 + 8
