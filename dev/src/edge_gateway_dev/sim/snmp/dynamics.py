"""How a hotspot AP's day unfolds, as pure functions of (seed, clock).

Nothing runs in the background: every counter is the integral of a daily traffic curve from the
AP's boot time to the request time, and every client session is decided by hashing (seed, slot,
epoch). So 50 APs cost nothing between polls, two runs with one seed serve the same values, and a test
can ask what any OID held at any second. Local time is WIB (UTC+7): quiet nights, a daytime plateau,
busy evenings when people sit in cafés and on the alun-alun.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

WIB_OFFSET_S = 7 * 3600
SECONDS_PER_DAY = 86400
_MINUTES_PER_DAY = 1440
SESSION_EPOCH_S = 900  # a client slot decides every 15 minutes whether it is on the AP
_MAX_SESSION_EPOCHS = 16  # a session found longer than 4 hours is taken to start 4 hours ago


def unit(seed: int, key: str, n: int = 0) -> float:
    """A uniform number in [0, 1) fixed by (seed, key, n): the simulator's only source of chance."""
    digest = hashlib.blake2b(f"{seed}|{key}|{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def local_hour(time_s: float) -> float:
    return ((time_s + WIB_OFFSET_S) % SECONDS_PER_DAY) / 3600.0


def hotspot_intensity(hour: float) -> float:
    """Share of peak use at a local hour: ~0.05 at 03, ~0.45 at midday, 1.0 around 20."""
    daytime = 0.5 * (math.tanh((hour - 6.5) / 1.0) - math.tanh((hour - 23.5) / 0.8))
    evening = math.exp(-(((hour - 20.0) / 1.8) ** 2))
    return min(1.0, 0.05 + 0.4 * daytime + 0.55 * evening)


def _cumulative_minutes() -> list[float]:
    cumulative = [0.0]
    for minute in range(_MINUTES_PER_DAY):
        cumulative.append(cumulative[-1] + 60.0 * hotspot_intensity((minute + 0.5) / 60.0))
    return cumulative


_CUMULATIVE = _cumulative_minutes()
_DAY_TOTAL = _CUMULATIVE[-1]


def busy_seconds(time_s: float) -> float:
    """Integral of the intensity from the epoch to `time_s`: 'seconds at peak' so far, monotonic."""
    local_s = time_s + WIB_OFFSET_S
    days, into_day_s = divmod(local_s, SECONDS_PER_DAY)
    minute, into_minute_s = divmod(into_day_s, 60.0)
    index = int(minute)
    step = _CUMULATIVE[index + 1] - _CUMULATIVE[index]
    return days * _DAY_TOTAL + _CUMULATIVE[index] + step * into_minute_s / 60.0


def traffic_bytes(peak_bytes_per_s: float, since_s: float, time_s: float) -> int:
    """Bytes carried between `since_s` and `time_s` by a link whose peak rate is given."""
    return int(peak_bytes_per_s * (busy_seconds(time_s) - busy_seconds(since_s)))


def drift(seed: int, key: str, time_s: float, amplitude: float, period_s: float = 1800.0) -> float:
    """A slow wander in [-amplitude, amplitude]: two sines with seed-given phases, plus a 1 s wobble."""
    phase = 2 * math.pi * unit(seed, key, 1)
    slow = math.sin(2 * math.pi * time_s / period_s + phase)
    slower = math.sin(2 * math.pi * time_s / (period_s * 5.3) + 2 * phase)
    wobble = 2 * unit(seed, key, int(time_s)) - 1
    return amplitude * (0.55 * slow + 0.3 * slower + 0.15 * wobble)


@dataclass(frozen=True, slots=True)
class Session:
    """One client on one radio: a slot of the radio's pool during a run of epochs."""

    slot: int
    mac: bytes
    start_s: float


class ClientPool:
    """The devices that may associate with one radio; how many are on follows the daily curve.

    Slot k is present in epoch e when unit(seed, key/k, e) < share(e); its session began at the start
    of the run of present epochs that contains e (never before the AP booted). Each slot's epochs are
    shifted by its own phase so joins and leaves are spread out, not all on the quarter hour.
    """

    def __init__(self, seed: int, key: str, size: int, peak_share: float) -> None:
        self.seed = seed
        self.key = key
        self.size = size
        self.peak_share = peak_share
        self._phase_s = [unit(seed, f"{key}/phase", k) * SESSION_EPOCH_S for k in range(size)]
        self._macs = [self._mac(k) for k in range(size)]

    def _mac(self, slot: int) -> bytes:
        digest = hashlib.blake2b(f"{self.seed}|{self.key}|mac|{slot}".encode(), digest_size=6).digest()
        return bytes((digest[0] & 0xFC | 0x02,)) + digest[1:]  # locally administered, like phones

    def _present(self, slot: int, epoch: int) -> bool:
        mid_s = (epoch + 0.5) * SESSION_EPOCH_S + self._phase_s[slot]
        share = self.peak_share * hotspot_intensity(local_hour(mid_s))
        return unit(self.seed, f"{self.key}/{slot}", epoch) < share

    def sessions(self, time_s: float, boot_s: float) -> list[Session]:
        out = []
        for slot in range(self.size):
            epoch = math.floor((time_s - self._phase_s[slot]) / SESSION_EPOCH_S)
            if not self._present(slot, epoch):
                continue
            first = epoch
            while epoch - first < _MAX_SESSION_EPOCHS and self._present(slot, first - 1):
                first -= 1
            start_s = max(first * SESSION_EPOCH_S + self._phase_s[slot], boot_s)
            out.append(Session(slot, self._macs[slot], start_s))
        return out
