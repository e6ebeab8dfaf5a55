"""NMEA 0183 GPS talker: RMC, GGA and ZDA sentences to position, fix, satellites and UTC time.

Frame::

    $<talker 2><type 3>,<field>,<field>...*HH\\r\\n      HH = XOR of the bytes between $ and *

    $GPRMC,hhmmss.ss,A|V,ddmm.mmmm,N|S,dddmm.mmmm,E|W,<speed>,<course>,ddmmyy,...*HH
    $GPGGA,hhmmss.ss,ddmm.mmmm,N|S,dddmm.mmmm,E|W,<quality>,<sats>,<hdop>,<alt>,M,...*HH
    $GPZDA,hhmmss.ss,dd,mm,yyyy,<zone h>,<zone m>*HH

Resync: a sentence starts at `$`; bytes before it are garbage, a second `$` before the line end means
the first sentence was cut and framing restarts there, a line longer than `max_line_bytes` (the
standard allows 82) is dropped. A bad or missing checksum is counted and the sentence skipped; a
sentence with a good checksum but unusable fields is counted as malformed; any other sentence type
(GSV, VTG...) and any talker id other than the three types are ignored. The own parser (rather than
pynmea2) tolerates empty fields without exceptions and costs a few microseconds per sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from edge_gateway.core import schema
from edge_gateway.core.model import FieldValue, Reading
from edge_gateway.drivers.base import DriverStats
from edge_gateway.drivers.framing import LineFramer, checked_body

MEASUREMENT = schema.GPS
_FIELDS = ("lat", "lon", "sats", "fix")
_DECIMALS = 7  # about 1 cm; the receiver's own resolution is 0.0001 minute (about 20 cm)


class _Malformed(ValueError):
    """A sentence whose checksum holds but whose fields do not parse."""


@dataclass(frozen=True, slots=True)
class NmeaFrame:
    """What one sentence says; None where the sentence does not carry (or lacks) a value.

    `fix` is GGA's quality indicator (0 none, 1 GPS, 2 DGPS...); RMC sets it to 0 when its status is
    V (void) and leaves it None when A, since RMC does not tell the quality.
    """

    sentence: str
    talker: str
    utc: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    fix: int | None = None
    sats: int | None = None


def _angle(value: str, hemisphere: str, max_deg: int, signs: str) -> float | None:
    """`ddmm.mmmm` (or `dddmm.mmmm`) and its hemisphere letter as signed decimal degrees."""
    if not value and not hemisphere:
        return None
    dot = value.find(".")
    head = dot if dot >= 0 else len(value)
    if head < 3 or not value[: head - 2].isdigit() or hemisphere not in (signs[0], signs[1]):
        raise _Malformed(f"bad angle {value!r},{hemisphere!r}")
    degrees, minutes = int(value[: head - 2]), float(value[head - 2 :])
    if not (0 <= minutes < 60 and degrees + minutes / 60 <= max_deg):
        raise _Malformed(f"angle out of range {value!r}")
    decimal = round(degrees + minutes / 60, _DECIMALS)
    return decimal if hemisphere == signs[0] else -decimal


def _utc(hhmmss: str, day: int, month: int, year: int) -> datetime:
    if len(hhmmss) < 6 or not hhmmss[:6].isdigit():
        raise _Malformed(f"bad time {hhmmss!r}")
    fraction = hhmmss[7:] if hhmmss[6:7] == "." else ""
    if hhmmss[6:] and not (fraction.isdigit() and len(fraction) <= 6):
        raise _Malformed(f"bad time {hhmmss!r}")
    micro = int(fraction.ljust(6, "0")) if fraction else 0
    hour, minute, second = int(hhmmss[0:2]), int(hhmmss[2:4]), int(hhmmss[4:6])
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError as exc:
        raise _Malformed(f"bad date/time: {exc}") from exc


def _int(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise _Malformed(f"not a number: {text!r}")
    return int(text)


def _rmc(talker: str, f: list[str]) -> NmeaFrame:
    if len(f) < 10 or f[2] not in ("A", "V"):
        raise _Malformed("short RMC or bad status")
    utc = None
    if f[1] and f[9]:
        date = f[9]
        if len(date) != 6 or not date.isdigit():
            raise _Malformed(f"bad date {date!r}")
        year = int(date[4:6])
        utc = _utc(f[1], int(date[0:2]), int(date[2:4]), year + (2000 if year < 80 else 1900))
    if f[2] == "V":
        return NmeaFrame("RMC", talker, utc, fix=0)
    lat, lon = _angle(f[3], f[4], 90, "NS"), _angle(f[5], f[6], 180, "EW")
    return NmeaFrame("RMC", talker, utc, lat, lon)


def _gga(talker: str, f: list[str]) -> NmeaFrame:
    if len(f) < 8:
        raise _Malformed("short GGA")
    quality, sats = _int(f[6]), _int(f[7])
    lat, lon = _angle(f[2], f[3], 90, "NS"), _angle(f[4], f[5], 180, "EW")
    if not quality:
        lat = lon = None
    return NmeaFrame("GGA", talker, None, lat, lon, quality, sats)


def _zda(talker: str, f: list[str]) -> NmeaFrame:
    if len(f) < 5:
        raise _Malformed("short ZDA")
    day, month, year = _int(f[2]), _int(f[3]), _int(f[4])
    if not f[1] or day is None or month is None or year is None:
        return NmeaFrame("ZDA", talker)
    return NmeaFrame("ZDA", talker, _utc(f[1], day, month, year))


_PARSERS = {"RMC": _rmc, "GGA": _gga, "ZDA": _zda}


class NmeaDriver:
    """A GPS receiver streaming sentences; it needs no requests."""

    name = "nmea"

    def __init__(self, max_line_bytes: int = 120) -> None:
        self.stats = DriverStats()
        self._framer = LineFramer(self.stats, delimiter=b"\n", max_line_bytes=max_line_bytes, start=b"$")

    def requests(self) -> list[bytes]:
        return []

    def expect(self, request: bytes) -> None:
        """A talker answers nothing; there is no stale input to drop."""

    def feed(self, data: bytes) -> list[NmeaFrame]:
        frames = []
        for line in self._framer.push(data):
            frame = self._sentence(line)
            if frame is not None:
                frames.append(frame)
        return frames

    def _sentence(self, line: bytes) -> NmeaFrame | None:
        body = checked_body(line)
        if body is None:
            self.stats.checksum_errors += 1
            return None
        try:
            fields = body.decode("ascii").split(",")
        except UnicodeDecodeError:
            self.stats.malformed_frames += 1
            return None
        address = fields[0]
        parser = _PARSERS.get(address[2:]) if len(address) == 5 else None
        if parser is None:
            self.stats.ignored_frames += 1
            return None
        try:
            frame = parser(address[:2], fields)
        except (_Malformed, ValueError):
            self.stats.malformed_frames += 1
            return None
        self.stats.frames_decoded += 1
        return frame

    def readings(self, frames: Sequence[NmeaFrame], tags: Mapping[str, str], time_ns: int) -> list[Reading]:
        """One `gps` reading with the latest lat, lon, sats and fix the frames carry, if any."""
        latest: dict[str, FieldValue] = {}
        for frame in frames:
            for key in _FIELDS:
                value = getattr(frame, key)
                if value is not None:
                    latest[key] = value
        fields = {key: latest[key] for key in _FIELDS if key in latest}
        return [Reading(MEASUREMENT, dict(tags), fields, time_ns)] if fields else []


def latest_utc(frames: Sequence[NmeaFrame]) -> datetime | None:
    """The UTC time of the last frame that carries a full date and time (RMC or ZDA)."""
    for frame in reversed(frames):
        if frame.utc is not None:
            return frame.utc
    return None


def clock_offset_s(frames: Sequence[NmeaFrame], system_time_ns: int) -> float | None:
    """System clock minus GPS time in seconds, for the caller's clock sanity check; None without time.

    Sentences arrive up to a second after the instant they describe, so compare against a tolerance
    of a few seconds, not zero.
    """
    utc = latest_utc(frames)
    return None if utc is None else system_time_ns / 1e9 - utc.timestamp()
