"""Per-gateway accounting of what the bridge stored: points, gaps and duplicates in `seq`, lag.

Plain state, no I/O. It feeds both the `ingest` measurement (written to InfluxDB, for dashboards and
alerts) and the bridge's `/metrics` page (for Prometheus), so the two always agree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from edge_gateway.core import schema
from edge_gateway.core.model import Reading

MAX_TRACKED_MISSING = 100_000


@dataclass
class GatewayAccount:
    """What the bridge saw of one gateway since it started."""

    points: int = 0
    batches: int = 0
    gaps: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    malformed: int = 0
    quarantined: int = 0  # messages set aside while the gateway was in quarantine
    last_seq: int | None = None
    lag_s: float = 0.0
    missing: set[int] = field(default_factory=set)

    def record(self, seq: int, points: int, newest_time_ns: int, now_ns: int | None = None) -> None:
        """Count a stored batch: seqs still missing (gaps) and repeats (redeliveries, harmless).

        A batch that arrives after a later one (out of order: shared subscriptions and redeliveries
        after a reconnect reorder them) fills its gap instead of counting as a repeat.
        """
        if self.last_seq is None or seq == self.last_seq + 1:
            self.last_seq = seq
        elif seq > self.last_seq:
            skipped = range(self.last_seq + 1, seq)
            self.gaps += len(skipped)
            if len(self.missing) + len(skipped) <= MAX_TRACKED_MISSING:
                self.missing.update(skipped)
            self.last_seq = seq
        elif seq in self.missing:
            self.missing.discard(seq)
            self.gaps -= 1
        else:
            self.duplicates += 1
        self.batches += 1
        self.points += points
        if newest_time_ns:
            now_ns = time.time_ns() if now_ns is None else now_ns
            self.lag_s = max(0.0, (now_ns - newest_time_ns) / 1e9)


@dataclass
class Accounts:
    by_gateway: dict[str, GatewayAccount] = field(default_factory=dict)
    malformed_messages: int = 0

    def of(self, gateway: str) -> GatewayAccount:
        return self.by_gateway.setdefault(gateway, GatewayAccount())

    def readings(self, bridge_id: str, time_ns: int) -> list[Reading]:
        """The `ingest` measurement: the bridge's own health, per gateway."""
        return [
            Reading(
                schema.INGEST,
                {"gateway": gateway, "bridge": bridge_id},
                {
                    "points": acc.points,
                    "batches": acc.batches,
                    "gaps": acc.gaps,
                    "duplicates": acc.duplicates,
                    "dead_letters": acc.dead_letters,
                    "malformed": acc.malformed,
                    "lag_s": round(acc.lag_s, 3),
                },
                time_ns,
            )
            for gateway, acc in sorted(self.by_gateway.items())
        ]
