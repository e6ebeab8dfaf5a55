"""Line timing and the per-bus `serial_bus` reading: how busy the line was and what went wrong.

Modbus RTU separates frames by at least 3.5 character times of silence, a character counting 11 bits
(start, 8 data, parity or a second stop bit, stop); above 19200 baud the specification fixes the gap
at 1.75 ms instead. Utilisation counts the characters that crossed the line in both directions at
that size, so it is the share of time the wire itself carried data; `busy_pct` is the share of time
the owner spent in transactions (from a request until its answer or timeout), which is what limits
how many sensors fit on one bus.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from edge_gateway.core.model import FieldValue, Reading

CHARACTER_BITS = 11
GAP_CHARACTERS = 3.5
FAST_BAUD = 19200
FAST_GAP_S = 0.00175


def character_time_s(baud: int) -> float:
    return CHARACTER_BITS / baud


def inter_frame_gap_s(baud: int) -> float:
    """The silence required before a Modbus RTU frame at `baud`."""
    return FAST_GAP_S if baud > FAST_BAUD else GAP_CHARACTERS * character_time_s(baud)


@dataclass(slots=True)
class BusStats:
    """Cumulative counters of one bus, plus the time accounting of the current reporting window."""

    requests: int = 0
    timeouts: int = 0
    port_errors: int = 0
    opens: int = 0
    bytes_out: int = 0
    bytes_in: int = 0
    stale_bytes: int = 0
    line_s: float = 0.0  # window: time the wire carried characters
    transaction_s: float = 0.0  # window: time spent from requests to answers or timeouts
    window_start_s: float = 0.0

    def reading(
        self,
        tags: dict[str, str],
        up: bool,
        now_s: float,
        driver_stats: Iterable[dict[str, FieldValue]],
        time_ns: int,
    ) -> Reading:
        """The `serial_bus` reading for the window ending now; starts the next window."""
        window_s = now_s - self.window_start_s
        errors = {"checksum_errors": 0, "malformed_frames": 0, "bytes_discarded": 0}
        for stats in driver_stats:
            for key in errors:
                value = stats.get(key, 0)
                errors[key] += value if isinstance(value, int) else 0
        fields: dict[str, FieldValue] = {
            "up": up,
            "utilisation_pct": round(100 * min(self.line_s / window_s, 1.0), 3) if window_s > 0 else 0.0,
            "busy_pct": round(100 * min(self.transaction_s / window_s, 1.0), 3) if window_s > 0 else 0.0,
            "requests": self.requests,
            "timeouts": self.timeouts,
            "port_errors": self.port_errors,
            "opens": self.opens,
            "bytes_out": self.bytes_out,
            "bytes_in": self.bytes_in,
            "stale_bytes": self.stale_bytes,
            **errors,
        }
        self.line_s = self.transaction_s = 0.0
        self.window_start_s = now_s
        return Reading("serial_bus", tags, fields, time_ns)
