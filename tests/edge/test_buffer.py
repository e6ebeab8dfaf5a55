from __future__ import annotations

import time
from pathlib import Path

from edge_gateway.agent.buffer import Buffer
from edge_gateway.agent.buffer_schema import priority_of


def lines(n: int, start: int = 0, measurement: str = "ap_iface") -> list[str]:
    return [f"{measurement},device=ap-1 in_octets={1_000 + i}i {1_000 + i}" for i in range(start, start + n)]


def test_batches_leave_in_order_and_are_deleted_only_on_ack(tmp_path: Path) -> None:
    with Buffer(tmp_path / "b.db", 1 << 20) as buffer:
        buffer.put(lines(10))
        first = buffer.take(4)
        second = buffer.take(4)
        assert first is not None and second is not None
        assert (first.seq, second.seq) == (1, 2)
        assert list(first.lines + second.lines) == lines(8)
        assert buffer.stats().readings == 10
        buffer.ack(first.seq)
        assert buffer.stats().readings == 6
        last = buffer.take(100)
        assert last is not None and list(last.lines) == lines(2, 8)
        assert buffer.take(100) is None


def test_status_readings_leave_before_bulk(tmp_path: Path) -> None:
    with Buffer(tmp_path / "b.db", 1 << 20) as buffer:
        buffer.put([*lines(3), "device_status,device=ap-1 up=false 5"])
        batch = buffer.take(2)
        assert batch is not None
        assert batch.lines[0].startswith("device_status,")
    assert priority_of("gateway buffer_readings=1i 1") == 0
    assert priority_of("ap,device=x up=true 1") == 1


def test_unacked_batch_is_resent_with_the_same_seq_after_restart(tmp_path: Path) -> None:
    with Buffer(tmp_path / "b.db", 1 << 20) as buffer:
        buffer.put(lines(6))
        taken = buffer.take(3)
        assert taken is not None
    with Buffer(tmp_path / "b.db", 1 << 20) as buffer:
        again = buffer.take(100)
        assert again is not None
        assert (again.seq, again.lines) == (taken.seq, taken.lines)
        rest = buffer.take(100)
        assert rest is not None and rest.seq == taken.seq + 1 and list(rest.lines) == lines(3, 3)


def test_seq_keeps_increasing_across_restarts(tmp_path: Path) -> None:
    seqs = []
    for round_ in range(3):
        with Buffer(tmp_path / "b.db", 1 << 20) as buffer:
            buffer.put(lines(1, round_))
            batch = buffer.take(10)
            assert batch is not None
            buffer.ack(batch.seq)
            seqs.append(batch.seq)
    assert seqs == [1, 2, 3]


def test_released_batch_comes_back_first(tmp_path: Path) -> None:
    with Buffer(tmp_path / "b.db", 1 << 20) as buffer:
        buffer.put(lines(4))
        first = buffer.take(2)
        assert first is not None
        buffer.release_all()
        again = buffer.take(2)
        assert again is not None and again.seq == first.seq and again.lines == first.lines


def test_drop_oldest_keeps_the_newest_and_counts(tmp_path: Path) -> None:
    size = len(lines(1)[0])
    with Buffer(tmp_path / "b.db", max_bytes=10 * size, on_full="drop_oldest") as buffer:
        assert buffer.put(lines(8)) == 0
        assert buffer.put(lines(5, 8)) == 3
        stats = buffer.stats()
        assert (stats.readings, stats.dropped) == (10, 3)
        batch = buffer.take(100)
        assert batch is not None and list(batch.lines) == lines(10, 3)
    with Buffer(tmp_path / "b.db", max_bytes=10 * size) as buffer:
        assert buffer.stats().dropped == 3  # the count survives a restart


def test_drop_newest_refuses_what_does_not_fit(tmp_path: Path) -> None:
    size = len(lines(1)[0])
    with Buffer(tmp_path / "b.db", max_bytes=10 * size, on_full="drop_newest") as buffer:
        buffer.put(lines(8))
        assert buffer.put(lines(5, 8)) == 3
        batch = buffer.take(100)
        assert batch is not None and list(batch.lines) == lines(10)
        assert buffer.stats().dropped == 3


def test_stats_report_bytes_and_oldest_time(tmp_path: Path) -> None:
    with Buffer(tmp_path / "b.db", 1 << 20) as buffer:
        assert buffer.stats().oldest_time_ns is None
        buffer.put(lines(3))
        stats = buffer.stats()
        assert stats.bytes == sum(map(len, lines(3)))
        assert stats.oldest_time_ns == 1_000


def test_old_backlog_alternates_with_live_readings_each_in_order(tmp_path: Path) -> None:
    hour_ago_ns = time.time_ns() - 3600 * 10**9
    history = [f"ap_iface,device=ap-1 in_octets={i}i {hour_ago_ns + i}" for i in range(6)]
    with Buffer(tmp_path / "b.db", 1 << 20, live_first_after_s=300) as buffer:
        buffer.put(history)
        first = buffer.take(2)  # the catch-up begins: what is accepted from now on is live
        now_ns = time.time_ns()
        live = [f"ap_iface,device=ap-1 in_octets={i}i {now_ns + i}" for i in range(4)]
        buffer.put(live)
        rest = [buffer.take(2) for _ in range(5)]
    batches = [first, *rest]
    assert [list(b.lines) if b else None for b in batches] == [
        history[0:2],
        history[2:4],
        live[0:2],
        history[4:6],
        live[2:4],
        None,
    ]


def test_young_backlog_leaves_strictly_oldest_first(tmp_path: Path) -> None:
    with Buffer(tmp_path / "b.db", 1 << 20, live_first_after_s=10**12) as buffer:
        buffer.put(lines(4))
        first = buffer.take(3)
        buffer.put(lines(4, 4))
        batches = [first, buffer.take(3), buffer.take(3)]
    assert [line for batch in batches if batch is not None for line in batch.lines] == lines(8)


def test_block_policy_keeps_everything_and_reports_no_room(tmp_path: Path) -> None:
    size = len(lines(1)[0])
    with Buffer(tmp_path / "b.db", max_bytes=4 * size, on_full="block") as buffer:
        assert buffer.has_room()
        assert buffer.put(lines(6)) == 0
        assert not buffer.has_room()
        assert buffer.stats().readings == 6 and buffer.stats().dropped == 0
        batch = buffer.take(3)
        assert batch is not None
        buffer.ack(batch.seq)
        assert buffer.has_room()


def test_a_database_that_cannot_grow_drops_by_policy_and_keeps_its_counts(tmp_path: Path) -> None:
    """SQLite's own 'database or disk is full' (a page limit stands in for the disk; the real disk is
    in tests/integration/test_disk_full.py): nothing raises, the newest are kept, the counts add up."""
    with Buffer(tmp_path / "b.db", 1 << 30, "drop_oldest") as buffer:
        buffer.put(lines(10))
        (pages,) = buffer._db.execute("PRAGMA page_count").fetchone()  # the real SQLITE_FULL, no fake
        buffer._db.execute(f"PRAGMA max_page_count = {pages + 8}")
        offered = 10
        while buffer.limit_bytes == buffer.max_bytes:
            buffer.put(lines(100, offered))
            offered += 100
            assert offered < 100_000, "the page limit was never reached"
        for _ in range(5):
            buffer.put(lines(100, offered))
            offered += 100
        stats = buffer.stats()
        assert stats.dropped > 0 and stats.readings + stats.dropped == offered
        (held,) = buffer._db.execute("SELECT count(*) FROM readings").fetchone()
        assert held == stats.readings, "the count follows what was committed, not what was tried"
        batch = buffer.take(stats.readings)
        assert batch is not None and list(batch.lines[-100:]) == lines(100, offered - 100), "newest kept"
        assert batch.lines[0] != lines(1)[0], "the oldest made room"
