"""Property tests: any bytes, in any pieces, never make a driver raise, hang or lose a good frame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_gateway.drivers.base import Driver
from edge_gateway.drivers.registry import create


@dataclass(frozen=True)
class Subject:
    """A driver configuration and one valid frame (the answer to its first request, if it polls)."""

    name: str
    options: dict[str, Any]
    frame: bytes
    delimiter: bytes = b""

    def driver(self) -> Driver:
        driver = create(self.name, self.options)
        requests = driver.requests()
        if requests:
            driver.expect(requests[0])
        return driver


_LINE_REGEX = {"measurement": "air_quality", "regex": r"CO2=(?P<co2_ppm>\d+),TVOC=(?P<tvoc_ppb>\d+)"}
_LINE_FIELDS = {"measurement": "weather", "separator": ",", "fields": ["temp_c", "rh_pct"]}
SUBJECTS = [
    Subject("modbus-rtu", {"slave": 1, "map": "xy-md02"}, bytes.fromhex("01 04 04 00 D7 02 3A CA CF")),
    Subject("modbus-rtu", {"slave": 1, "map": "xy-md02"}, bytes.fromhex("01 84 02 C2 C1")),
    Subject("modbus-rtu", {"slave": 4, "map": "di8"}, bytes.fromhex("04 02 01 25 60 9F")),
    Subject("modbus-rtu", {"slave": 2, "map": "pm"}, bytes.fromhex("02 03 04 00 23 00 34 39 2E")),
    Subject("nmea", {}, b"$GPGGA,080000.00,0642.3351,S,10833.1975,E,1,09,0.9,5.2,M,25.0,M,,*7E\r\n"),
    Subject("nmea", {}, b"$GPRMC,080000.00,A,0642.3351,S,10833.1975,E,0.00,,231125,,,A*54\r\n"),
    Subject("radar", {"address": 1}, b"$RD,1,120,2,1,5,0,0,2,3,321,40*3B\r\n"),
    Subject("line", _LINE_REGEX, b"CO2=0412,TVOC=0030\r\n", b"\r\n"),
    Subject("line", _LINE_FIELDS, b"21.5,57.0\r\n", b"\r\n"),
]
IDS = [f"{s.name}-{i}" for i, s in enumerate(SUBJECTS)]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _feed_all(driver: Driver, chunks: list[bytes]) -> list[Any]:
    frames: list[Any] = []
    for chunk in chunks:
        frames.extend(driver.feed(chunk))
    return frames


def _expected(subject: Subject) -> list[Any]:
    frames = list(subject.driver().feed(subject.frame))
    assert len(frames) == 1
    return frames


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@pytest.mark.parametrize("subject", SUBJECTS, ids=IDS)
@FUZZ
@given(chunks=st.lists(st.binary(max_size=400), max_size=8))
def test_random_bytes_never_raise(subject: Subject, chunks: list[bytes]) -> None:
    driver = subject.driver()
    frames = _feed_all(driver, chunks)
    stats = driver.stats
    assert stats.frames_decoded >= len(frames) - stats.exception_responses
    assert stats.bytes_discarded <= sum(map(len, chunks))
    driver.readings(frames, {"sensor": "fuzz"}, 0)


@pytest.mark.parametrize("subject", SUBJECTS, ids=IDS)
@FUZZ
@given(data=st.data())
def test_mutated_frames_never_raise(subject: Subject, data: st.DataObject) -> None:
    frame = bytearray(subject.frame * 2)
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(frame) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "replace"]))
        if action == "flip":
            frame[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "delete":
            del frame[pos]
        elif action == "insert":
            frame.insert(pos, data.draw(st.integers(0, 255)))
        else:
            frame[pos] = data.draw(st.sampled_from(b"$*,\r\n0123456789ABCDEF.-"))
    driver = subject.driver()
    cuts = data.draw(st.lists(st.integers(0, 1000), max_size=4))
    frames = _feed_all(driver, _split(bytes(frame), cuts))
    driver.readings(frames, {"sensor": "fuzz"}, 0)


@pytest.mark.parametrize("subject", SUBJECTS, ids=IDS)
@FUZZ
@given(garbage=st.binary(max_size=600), cuts=st.lists(st.integers(0, 2000), max_size=4))
def test_valid_frame_after_garbage_is_found(subject: Subject, garbage: bytes, cuts: list[int]) -> None:
    driver = subject.driver()
    # A line driver has no start marker: garbage is a line of its own once a delimiter ends it.
    stream = garbage + subject.delimiter + subject.frame
    frames = _feed_all(driver, _split(stream, cuts))
    assert frames[-1:] == _expected(subject)


@pytest.mark.parametrize("subject", SUBJECTS, ids=IDS)
def test_endless_noise_keeps_the_buffer_bounded(subject: Subject) -> None:
    """Megabytes of frame-like noise without a complete frame: the work and the memory stay bounded."""
    driver = subject.driver()
    noise = (subject.frame[:-3] * 40)[:4000]
    for _ in range(250):
        driver.feed(noise)
    fed = 250 * len(noise)
    assert fed - driver.stats.bytes_discarded <= 1024
    assert driver.feed(subject.delimiter + subject.frame) == _expected(subject)


def test_subjects_cover_every_driver() -> None:
    from edge_gateway.drivers.registry import DRIVERS

    covered: set[str] = {subject.name for subject in SUBJECTS}
    assert covered == set(DRIVERS)
