from __future__ import annotations

from edge_gateway.bridge.batching import Batcher
from edge_gateway.bridge.ingest import Decoded


class Clock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def decoded(seq: int, points: int) -> Decoded:
    return Decoded("g1", seq, [f"m,gateway=g1 x={i}i {seq * 1000 + i}" for i in range(points)], [], 0)


def test_a_batch_closes_at_max_points_across_messages() -> None:
    batcher: Batcher[str] = Batcher(max_points=10, max_messages=100, flush_interval_s=1.0, clock=Clock())
    assert batcher.add("m1", decoded(1, 4)) is None
    assert batcher.add("m2", decoded(2, 4)) is None
    batch = batcher.add("m3", decoded(3, 4))
    assert batch is not None
    assert [message for message, _ in batch.entries] == ["m1", "m2", "m3"]
    assert len(batch.lines) == 12  # a message is never split between batches
    assert batcher.take() is None


def test_a_batch_closes_at_max_messages() -> None:
    batcher: Batcher[str] = Batcher(max_points=1000, max_messages=2, flush_interval_s=1.0, clock=Clock())
    assert batcher.add("m1", decoded(1, 1)) is None
    batch = batcher.add("m2", decoded(2, 0))
    assert batch is not None and [m for m, _ in batch.entries] == ["m1", "m2"]


def test_a_batch_closes_when_its_first_message_waited_the_flush_interval() -> None:
    clock = Clock()
    batcher: Batcher[str] = Batcher(max_points=1000, max_messages=100, flush_interval_s=1.0, clock=clock)
    assert batcher.due() is None  # nothing pending
    batcher.add("m1", decoded(1, 2))
    clock.now_s += 0.6
    batcher.add("m2", decoded(2, 2))
    assert batcher.due() is None
    clock.now_s += 0.4
    batch = batcher.due()
    assert batch is not None and len(batch.lines) == 4
    assert batcher.due() is None
    clock.now_s += 5
    assert batcher.due() is None  # the timer starts again with the next message
    batcher.add("m3", decoded(3, 1))
    assert batcher.due() is None
