"""Rates from SNMP counters, done right: wraps, reboots and discontinuities never become spikes.

Pure functions over two samples of one counter. A 32-bit counter that went back wrapped (2^32 is
added); a 64-bit counter never wraps in practice, so one that went back was reset and the interval is
dropped. An interval across a reboot (sysUpTime went back) or a change of the counter's
discontinuity time (ifCounterDiscontinuityTime) is dropped too. A rate above the interface speed is
capped at it; one far above it (more than `IMPLAUSIBLE_FACTOR` x) can only come from an unnoticed
reset and is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_gateway.drivers.counters import counter_delta

IMPLAUSIBLE_FACTOR = 2.0


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of a counter: its value, when (monotonic seconds), and the device's clocks."""

    value: int
    time_s: float
    uptime_s: float
    discontinuity: int = 0


def rate_per_s(
    previous: Sample, current: Sample, bits: int, scale: float = 8.0, max_rate: float | None = None
) -> float | None:
    """`scale` x growth per second between two samples, or None when the interval cannot be trusted.

    `scale` is 8 for octet counters reported as bit/s. `max_rate` (the interface speed in the same
    unit) caps the result; None or 0 means the speed is unknown.
    """
    elapsed_s = current.time_s - previous.time_s
    if elapsed_s <= 0 or current.uptime_s < previous.uptime_s:
        return None
    if current.discontinuity != previous.discontinuity:
        return None
    delta = counter_delta(previous.value, current.value, bits=bits)
    if delta is None:
        return None
    rate = delta * scale / elapsed_s
    if max_rate:
        if rate > max_rate * IMPLAUSIBLE_FACTOR:
            return None
        rate = min(rate, max_rate)
    return rate


def bits_of(kind: str) -> int:
    return 64 if kind == "counter64" else 32
