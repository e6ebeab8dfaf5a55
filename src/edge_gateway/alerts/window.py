"""The mean over a standard's averaging window (ISPU: 24 hours), kept in 24 slices.

A daily mean from ninety seconds of readings is not a daily mean: the window is cut in `SLICES`
slices (hours, for a day), each holding the sum and count of its readings, and the mean is the mean
of the slice means, so a sensor that reported twice as often in the morning does not weigh the morning
twice. It is judged only when enough slices hold readings (`min_coverage`, 75 % as air-quality
standards ask of a daily mean); until then it says nothing. Memory: 24 slices per series, whatever
the reading rate.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

SLICES = 24


@dataclass
class WindowMean:
    window_s: float
    min_coverage: float
    _slices: deque[list[float]] = field(default_factory=deque)  # [slice number, sum, count]

    def add(self, time_s: float, value: float) -> float | None:
        """Add a reading (in time order) and return the window's mean at its time, None when too few
        slices hold readings for the mean to mean anything."""
        width_s = self.window_s / SLICES
        number = float(time_s // width_s)
        if self._slices and self._slices[-1][0] == number:
            self._slices[-1][1] += value
            self._slices[-1][2] += 1
        else:
            self._slices.append([number, value, 1.0])
        while self._slices and self._slices[0][0] <= number - SLICES:
            self._slices.popleft()
        if len(self._slices) < self.min_coverage * SLICES:
            return None
        return sum(total / count for _, total, count in self._slices) / len(self._slices)
