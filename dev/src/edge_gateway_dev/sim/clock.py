"""The simulated field's time: one clock, passed to every simulator, that tests and users can set.

Everything the simulators serve follows a daily curve in WIB (quiet nights, busy evenings), so the
hour is an input: a test that needs night with no clients, or the midnight rollover, starts a
`SimClock` at that instant instead of depending on when it happens to run. The clock runs on from its
start at `scale` simulated seconds per real second, measured with the monotonic clock so a step of the
system clock does not move the field's time. Without a start instant the field keeps the wall clock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone

Clock = Callable[[], float]
WIB = timezone(timedelta(hours=7), "WIB")
CLOCK_ENV = "EDGE_SIM_CLOCK"
SCALE_ENV = "EDGE_SIM_TIME_SCALE"


def wall_clock() -> float:
    """The real time, epoch seconds: the field's clock unless one is given."""
    return time.time()


class SimClock:
    """Simulated epoch seconds: `start_s` at creation, then `scale` seconds per monotonic second."""

    def __init__(self, start_s: float, scale: float = 1.0, monotonic: Clock = time.monotonic) -> None:
        if not scale > 0:
            raise ValueError(f"time scale must be positive, not {scale}")
        self.start_s = start_s
        self.scale = scale
        self._monotonic = monotonic
        self._origin_s = monotonic()

    def now(self) -> float:
        return self.start_s + (self._monotonic() - self._origin_s) * self.scale

    def __call__(self) -> float:
        return self.now()

    def __repr__(self) -> str:
        return f"SimClock({format_instant(self.start_s)}, scale={self.scale})"


def parse_instant(text: str) -> float:
    """Epoch seconds of an ISO 8601 instant (`2026-12-01T03:00+07:00`); without an offset it is WIB,
    the field's local time. ValueError names the text on anything else."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an ISO 8601 instant such as 2026-12-01T12:00+07:00") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=WIB)
    return moment.timestamp()


def format_instant(time_s: float) -> str:
    """The instant in WIB, to the second, as `parse_instant` reads it back."""
    return datetime.fromtimestamp(time_s, WIB).isoformat(timespec="seconds")


def make_clock(instant: str | None, scale: float = 1.0) -> Clock:
    """The field's clock: from `instant` (ISO 8601) if given, else from now; the wall clock itself
    when neither an instant nor a speed-up is asked for."""
    if instant is None and scale == 1.0:
        return wall_clock
    start_s = wall_clock() if instant is None else parse_instant(instant)
    return SimClock(start_s, scale)


def resolve_clock(
    instant: str | None = None, scale: float | None = None, environ: Mapping[str, str] = os.environ
) -> Clock:
    """The clock a run asked for: the flags if given, else `EDGE_SIM_CLOCK` (an instant) and
    `EDGE_SIM_TIME_SCALE` (a factor) from the environment, else the wall clock."""
    if scale is None:
        scale_text = environ.get(SCALE_ENV, "") or "1"
        try:
            scale = float(scale_text)
        except ValueError as exc:
            raise ValueError(f"{SCALE_ENV}={scale_text!r} is not a number") from exc
    return make_clock(instant or environ.get(CLOCK_ENV) or None, scale)
