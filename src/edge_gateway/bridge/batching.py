"""Gathering the lines of many MQTT messages into one database write.

InfluxDB takes a few thousand lines per request far faster than a few hundred, and gateways send
batches of whatever they had (often small), so the bridge writes across messages: a batch is closed
when it holds `max_points` lines, or `max_messages` messages (the broker stops sending once that many
are unacknowledged: waiting for more would stall), or its first message is `flush_interval_s` old.
A message is never split between batches, so it is acknowledged exactly when all its lines are stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from edge_gateway.bridge.ingest import Decoded

M = TypeVar("M")


@dataclass
class Batch(Generic[M]):
    """Lines to write in one request, and the messages to acknowledge once they are stored."""

    entries: list[tuple[M, Decoded]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    started_s: float = 0.0


class Batcher(Generic[M]):
    def __init__(
        self,
        max_points: int,
        max_messages: int,
        flush_interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_points = max_points
        self.max_messages = max_messages
        self.flush_interval_s = flush_interval_s
        self.clock = clock
        self.pending: Batch[M] = Batch()

    def add(self, message: M, decoded: Decoded) -> Batch[M] | None:
        """Add a message; return the batch when it is full (and start a new one)."""
        if not self.pending.entries:
            self.pending.started_s = self.clock()
        self.pending.entries.append((message, decoded))
        self.pending.lines.extend(decoded.lines)
        if len(self.pending.lines) >= self.max_points or len(self.pending.entries) >= self.max_messages:
            return self.take()
        return None

    def due(self) -> Batch[M] | None:
        """The pending batch if its first message has waited `flush_interval_s`, else None."""
        if self.pending.entries and self.clock() - self.pending.started_s >= self.flush_interval_s:
            return self.take()
        return None

    def take(self) -> Batch[M] | None:
        batch, self.pending = self.pending, Batch()
        return batch if batch.entries else None
