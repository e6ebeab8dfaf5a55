"""Turn a sensor's cumulative vehicle count into a volume per poll interval.

Drivers report the raw count (`count_total`) because only the collector sees consecutive polls.
Counters wrap (the DI8 module's registers at 2**16, the radar's and SNMP's at 2**32) and restart from
zero when the device powers on again; across a reboot the difference means nothing, so it is None
rather than a guess, and the dashboards show a gap instead of a spike. A 64-bit counter never wraps in
practice: one that went back was reset. The one counter arithmetic of the project: the serial sensors'
volumes and the SNMP interface rates (`agent/collectors/snmp/counters.py`) both use it.
"""

from __future__ import annotations


def counter_delta(
    previous: int | None,
    current: int,
    *,
    bits: int,
    rebooted: bool = False,
    max_delta: int | None = None,
) -> int | None:
    """Counts added since `previous`, allowing for one wrap of a `bits`-wide counter.

    None when there is no previous value, when the caller knows the device rebooted in between
    (for the radar, its uptime went backwards), when a value does not fit the counter's width, when
    a 64-bit counter went back (a reset, not a wrap), or when the difference exceeds `max_delta` — a
    plausibility bound that catches a reboot the device does not announce (a 16-bit register reset
    to zero looks like a huge wrap).
    """
    if bits not in (16, 32, 64):
        raise ValueError(f"bits must be 16, 32 or 64, not {bits}")
    modulo = 1 << bits
    if previous is None or rebooted:
        return None
    if not (0 <= previous < modulo and 0 <= current < modulo):
        return None
    if bits == 64 and current < previous:
        return None
    delta = (current - previous) % modulo
    if max_delta is not None and delta > max_delta:
        return None
    return delta


def uptime_went_back(previous_s: int | None, current_s: int) -> bool:
    """True when a device's uptime is lower than at the previous poll: it restarted in between."""
    return previous_s is not None and current_s < previous_s
