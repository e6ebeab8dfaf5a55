"""NMEA, radar and line drivers: the parts the golden cases do not show."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pynmea2
import pytest

from edge_gateway.core.config import ConfigError
from edge_gateway.core.validation import validate
from edge_gateway.drivers.base import DriverError, DriverStats
from edge_gateway.drivers.framing import LineFramer, checked_body, nmea_frame
from edge_gateway.drivers.line import LineConfig, LineDriver
from edge_gateway.drivers.nmea import NmeaDriver, clock_offset_s, latest_utc
from edge_gateway.drivers.radar import RadarDriver, encode_request

RMC = b"$GPRMC,080000.00,A,0642.3351,S,10833.1975,E,0.00,,231125,,,A*54\r\n"
ZDA = nmea_frame("GPZDA,080001.50,23,11,2025,00,00")
GGA = b"$GPGGA,080000.00,0642.3351,S,10833.1975,E,1,09,0.9,5.2,M,25.0,M,,*7E\r\n"


def test_checksum_agrees_with_pynmea2() -> None:
    for sentence in (RMC, GGA):
        parsed = pynmea2.parse(sentence.decode().strip(), check=True)
        assert nmea_frame(sentence[1:-5].decode()) == sentence
        assert checked_body(sentence.strip()) is not None
        frame = NmeaDriver().feed(sentence)[0]
        assert (frame.lat, frame.lon) == (round(parsed.latitude, 7), round(parsed.longitude, 7))


def test_utc_time_from_rmc_and_zda_for_the_clock_check() -> None:
    frames = NmeaDriver().feed(RMC + GGA + ZDA)
    assert [f.sentence for f in frames] == ["RMC", "GGA", "ZDA"]
    assert frames[0].utc == datetime(2025, 11, 23, 8, 0, 0, tzinfo=UTC)
    assert frames[1].utc is None  # GGA carries a time of day but no date
    assert latest_utc(frames) == datetime(2025, 11, 23, 8, 0, 1, 500000, tzinfo=UTC)
    system_ns = int(datetime(2025, 11, 23, 8, 0, 4, tzinfo=UTC).timestamp() * 1e9)
    assert clock_offset_s(frames, system_ns) == pytest.approx(2.5)
    assert clock_offset_s(frames[1:2], system_ns) is None


@pytest.mark.parametrize(
    "body",
    [
        "GPRMC,080000.00,A,0642.3351,X,10833.1975,E,0.00,,231125,,,A",  # bad hemisphere
        "GPRMC,080000.00,A,9142.3351,N,10833.1975,E,0.00,,231125,,,A",  # latitude over 90
        "GPRMC,080000.00,A,0662.0000,N,10833.1975,E,0.00,,231125,,,A",  # 62 minutes
        "GPRMC,080000.00,A,0642.3351,N,10833.1975,E,0.00,,311325,,,A",  # month 13
        "GPRMC,256000.00,A,0642.3351,N,10833.1975,E,0.00,,231125,,,A",  # hour 25
        "GPRMC,080000.00,Q,0642.3351,N,10833.1975,E,0.00,,231125,,,A",  # status neither A nor V
        "GPGGA,080000.00,0642.3351,S,10833.1975,E,one,09,0.9,5.2,M,25.0,M,,",
        "GPZDA,080000.00,23,11",
    ],
)
def test_malformed_sentences_are_counted_not_raised(body: str) -> None:
    driver = NmeaDriver()
    assert driver.feed(nmea_frame(body)) == []
    assert driver.stats.malformed_frames == 1


def test_sentence_without_checksum_counts_as_checksum_error() -> None:
    driver = NmeaDriver()
    assert driver.feed(b"$GPZDA,080000.00,23,11,2025,00,00\r\n") == []
    assert driver.stats.checksum_errors == 1


def test_radar_request_and_its_range() -> None:
    assert encode_request(1) == b"$RQ,1*1E\r\n"
    assert encode_request(42) == nmea_frame("RQ,42")
    for address in (0, 100):
        with pytest.raises(DriverError):
            encode_request(address)
    assert RadarDriver(7).requests() == [nmea_frame("RQ,7")]


def test_radar_expect_drops_a_half_received_late_answer() -> None:
    driver = RadarDriver()
    answer = nmea_frame("RD,1,120,1,1,5,0,0")
    driver.feed(answer[:10])
    driver.expect(driver.requests()[0])
    assert driver.stats.bytes_discarded == 10
    (frame,) = driver.feed(answer)
    assert (frame.uptime_s, frame.lanes[0].count) == (120, 5)


def test_radar_refuses_a_count_beyond_32_bits() -> None:
    driver = RadarDriver()
    assert driver.feed(nmea_frame("RD,1,120,1,1,4294967296,0,0")) == []
    assert driver.stats.malformed_frames == 1


def test_framer_without_start_keeps_a_split_delimiter_when_dropping() -> None:
    stats = DriverStats()
    framer = LineFramer(stats, delimiter=b"\r\n", max_line_bytes=8)
    assert framer.push(b"0123456789\r") == []
    assert framer.push(b"\nok\r\n") == [b"ok"]
    assert stats.bytes_discarded == 12


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"measurement": "x"}, "set exactly one of regex or separator"),
        (
            {"measurement": "x", "regex": "(?P<a>1)", "separator": ","},
            "set exactly one of regex or separator",
        ),
        ({"measurement": "x", "regex": "("}, "bad regular expression"),
        ({"measurement": "x", "regex": "(\\d+)"}, "no named group"),
        ({"measurement": "x", "separator": ","}, "fields must name at least one position"),
        ({"measurement": "x", "separator": ",", "fields": ["a"], "scale": {"b": 2}}, "unknown fields: b"),
        ({"measurement": "x", "separator": ",", "fields": ["a"], "scale": {"a": 0}}, "non-zero"),
        (
            {"measurement": "x", "separator": ",", "fields": ["a"], "types": {"a": "int"}, "scale": {"a": 2}},
            "floats only",
        ),
        ({"measurement": "x", "separator": ",", "fields": ["a"], "tags": ["a"]}, "must not be a tag"),
        ({"measurement": "x", "separator": ",", "fields": ["a b"]}, "bad field name"),
        ({"measurement": "x", "separator": ",", "fields": ["a"], "delimiter": ""}, "delimiter"),
        ({"measurement": "x", "separator": ",", "fields": ["a"], "colour": "red"}, "colour"),
    ],
)
def test_line_config_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate(LineConfig, options)


def test_line_driver_string_fields_and_optional_groups() -> None:
    regex = r"ID=(?P<unit>\w+)(?: T=(?P<temp_c>-?\d+))?"
    config = validate(LineConfig, {"measurement": "status", "regex": regex, "types": {"unit": "str"}})
    driver = LineDriver(config)
    frames = driver.feed(b"ID=abc T=-4\r\nID=def\r\n")
    readings = driver.readings(frames, {"sensor": "s"}, 9)
    assert [dict(r.fields) for r in readings] == [{"unit": "abc", "temp_c": -4.0}, {"unit": "def"}]
