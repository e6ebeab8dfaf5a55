"""The GPS receiver on the signal cabinet: an NMEA 0183 talker sending RMC, GGA and ZDA every second.

The position is the intersection's with a few metres of jitter; satellites 6-12, fix quality 1. Times
are UTC as every receiver sends them; ZDA's local zone fields are 00,00 because a receiver does not
know the time zone it sits in.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import UTC, datetime

from edge_gateway_dev.sim.serial.checksums import nmea_frame
from edge_gateway_dev.sim.serial.daily import unit
from edge_gateway_dev.sim.serial.faults import FaultInjector, spoil_checksum
from edge_gateway_dev.sim.serial.pty_port import PtyPort
from edge_gateway_dev.sim.serial.truth import GpsFix

_JITTER_M = 3.0
_METRES_PER_DEG_LAT = 111_320.0
_GEOID_SEPARATION_M = 25.0
# Unread output older than about two seconds is lost (see PtyPort.discard_unread_over).
_MAX_BACKLOG_BYTES = 512


def fix_at(seed: int, lat_deg: float, lon_deg: float, time_s: float) -> GpsFix:
    """What the receiver reports at `time_s`: deterministic from the seed and the second."""
    second = math.floor(time_s)
    north_m = (2.0 * unit(seed, "gps-north", second) - 1.0) * _JITTER_M
    east_m = (2.0 * unit(seed, "gps-east", second) - 1.0) * _JITTER_M
    minute = second // 60
    return GpsFix(
        time_s=time_s,
        lat_deg=lat_deg + north_m / _METRES_PER_DEG_LAT,
        lon_deg=lon_deg + east_m / (_METRES_PER_DEG_LAT * math.cos(math.radians(lat_deg))),
        sats=6 + math.floor(7 * unit(seed, "gps-sats", minute)),
        hdop=round(0.7 + 0.8 * unit(seed, "gps-hdop", minute), 1),
        altitude_m=round(4.0 + 2.0 * unit(seed, "gps-alt", second), 1),
    )


def _angle(value_deg: float, degree_digits: int, hemispheres: str) -> str:
    """`dddmm.mmmm,H` as NMEA writes latitudes and longitudes."""
    total_min = round(abs(value_deg) * 60.0, 4)
    degrees = int(total_min // 60)
    minutes = total_min - 60 * degrees
    hemisphere = hemispheres[0] if value_deg >= 0 else hemispheres[1]
    return f"{degrees:0{degree_digits}d}{minutes:07.4f},{hemisphere}"


def sentences(fix: GpsFix) -> list[bytes]:
    """The RMC, GGA and ZDA sentences of one second, framed and checksummed."""
    when = datetime.fromtimestamp(fix.time_s, UTC)
    hhmmss = f"{when:%H%M%S}.{when.microsecond // 10000:02d}"
    lat = _angle(fix.lat_deg, 2, "NS")
    lon = _angle(fix.lon_deg, 3, "EW")
    bodies = [
        f"GPRMC,{hhmmss},A,{lat},{lon},0.00,,{when:%d%m%y},,,A",
        f"GPGGA,{hhmmss},{lat},{lon},1,{fix.sats:02d},{fix.hdop:.1f},{fix.altitude_m:.1f},M,"
        f"{_GEOID_SEPARATION_M:.1f},M,,",
        f"GPZDA,{hhmmss},{when:%d},{when:%m},{when:%Y},00,00",
    ]
    return [nmea_frame(body) for body in bodies]


class GpsReceiver:
    """Streams one burst of sentences per interval while the port is plugged."""

    def __init__(
        self,
        seed: int,
        lat_deg: float,
        lon_deg: float,
        port: PtyPort,
        injector: FaultInjector,
        clock: Callable[[], float],
        on_fix: Callable[[GpsFix], None],
    ) -> None:
        self._seed = seed
        self._position = (lat_deg, lon_deg)
        self._port = port
        self._injector = injector
        self._clock = clock
        self._on_fix = on_fix

    def on_data(self, data: bytes) -> None:
        """A talker ignores what the gateway sends it (configuration sentences are not modelled)."""

    def emit(self) -> None:
        """Send the sentences for the clock's current second."""
        if not self._port.plugged:
            return
        fix = fix_at(self._seed, *self._position, self._clock())
        self._port.discard_unread_over(_MAX_BACKLOG_BYTES)
        for sentence in sentences(fix):
            self._port.write(b"".join(self._injector.shape(sentence, spoil_checksum)))
        self._on_fix(fix)

    async def run(self, interval_s: float) -> None:
        """Emit on each whole multiple of `interval_s` of the field's clock, as a receiver's PPS-aligned
        output (at a speed-up the wait is still that many real seconds at most: fewer bursts, each
        one for the simulated second it is sent in). Half an interval at least, so a clock that stands
        still (a test's fixed instant) cannot make it spin."""
        while True:
            await asyncio.sleep(max(interval_s - self._clock() % interval_s, interval_s / 2))
            self.emit()
