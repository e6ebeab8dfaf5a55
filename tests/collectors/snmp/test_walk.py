"""The walker: only the column asked, OIDs must increase, a size cap, tooBig halving remembered."""

from __future__ import annotations

import pytest

from edge_gateway.agent.collectors.snmp.backend import NoResponse
from edge_gateway.agent.collectors.snmp.walk import BudgetSpent, Link, WalkError
from tests.collectors.snmp.fakes import FakeBackend, FakeDevice

IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"


def device() -> FakeDevice:
    values: dict[str, int | str | bytes | float | None] = {
        f"{IF_NAME}.{i}": f"eth{i}".encode() for i in range(1, 9)
    }
    values["1.3.6.1.2.1.31.1.1.1.6.1"] = 5
    values["1.3.6.1.2.1.1.3.0"] = 100
    return FakeDevice(values)


async def test_walk_returns_the_column_only_by_index() -> None:
    rows = await Link(FakeBackend(device()), 25, 1000, 0).walk(IF_NAME)
    assert rows == {(i,): f"eth{i}".encode() for i in range(1, 9)}


async def test_non_increasing_oid_abandons_the_walk_without_naming_the_row() -> None:
    fake = device()
    fake.repeat_at = f"{IF_NAME}.3"
    with pytest.raises(WalkError, match="not increasing after 3 rows") as caught:
        await Link(FakeBackend(fake), 25, 1000, 0).walk(IF_NAME)
    assert f"{IF_NAME}.3" not in str(caught.value)


async def test_walk_is_capped_in_rows_and_the_column_noted() -> None:
    link = Link(FakeBackend(device()), 25, 5, 0)
    assert list(await link.walk(IF_NAME)) == [(i,) for i in range(1, 6)]
    assert link.capped == [IF_NAME]


async def test_an_endless_column_costs_its_row_cap_in_requests_not_more() -> None:
    fake = FakeDevice({}, endless=IF_NAME)
    link = Link(FakeBackend(fake), 10, 100, 0)
    rows = await link.walk(IF_NAME)
    assert len(rows) == 100 and link.capped == [IF_NAME]
    assert fake.requests == link.requests == 10  # 100 rows in pages of 10


async def test_a_poll_past_its_request_budget_is_abandoned() -> None:
    fake = FakeDevice({}, endless=IF_NAME)
    link = Link(FakeBackend(fake), 10, 10_000, 0)
    link.begin_poll(max_rows=10_000, max_requests=7)
    with pytest.raises(BudgetSpent, match="request budget of 7 per poll spent"):
        await link.walk(IF_NAME)
    assert fake.requests == 7
    link.begin_poll(max_rows=10_000, max_requests=7)
    with pytest.raises(BudgetSpent):
        await link.get([f"{IF_NAME}.{i}" for i in range(1, 1000)])
    assert fake.requests == 14  # each poll starts a new budget


async def test_too_big_halves_the_size_and_the_device_keeps_it() -> None:
    fake = device()
    fake.too_big_above = 6
    link = Link(FakeBackend(fake), 25, 1000, 0)
    assert len(await link.walk(IF_NAME)) == 8
    assert fake.asked_repetitions == [25, 12, 6]
    assert link.max_repetitions == 6
    await link.walk(IF_NAME)
    assert fake.asked_repetitions[-1] == 6


async def test_timeout_retries_with_half_the_size() -> None:
    fake = device()
    fake.timeouts = 1
    link = Link(FakeBackend(fake), 20, 1000, retries=1)
    assert len(await link.walk(IF_NAME)) == 8
    assert fake.asked_repetitions == [20, 10]


async def test_timeouts_beyond_the_retries_fail() -> None:
    fake = device()
    fake.timeouts = 2
    with pytest.raises(NoResponse):
        await Link(FakeBackend(fake), 20, 1000, retries=1).walk(IF_NAME)


async def test_get_leaves_out_absent_scalars() -> None:
    values = await Link(FakeBackend(device()), 25, 1000, 0).get(["1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.5.0"])
    assert values == {"1.3.6.1.2.1.1.3.0": 100}


async def test_next_walk_asks_for_one_row_more_than_last_time() -> None:
    fake = device()
    link = Link(FakeBackend(fake), 25, 1000, 0)
    await link.walk(IF_NAME)
    await link.walk(IF_NAME)
    await link.walk("1.3.6.1.2.1.99")  # an empty column
    await link.walk("1.3.6.1.2.1.99")
    assert fake.asked_repetitions == [25, 9, 25, 1]
    assert link.max_repetitions == 25  # asking less is not a limit of the device
