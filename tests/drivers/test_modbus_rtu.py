"""Modbus RTU framing: CRC against pymodbus, request building, matching answers to requests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymodbus.framer.rtu import FramerRTU

from edge_gateway.drivers.base import DriverError
from edge_gateway.drivers.modbus_maps import builtin_map
from edge_gateway.drivers.modbus_rtu import (
    ModbusFrame,
    ModbusRtuDriver,
    ReadRequest,
    crc16,
    encode_read_request,
    parse_read_request,
    with_crc,
)


@given(st.binary(max_size=256))
def test_crc_agrees_with_pymodbus(data: bytes) -> None:
    # pymodbus returns the CRC with its bytes swapped, ready to send big-endian.
    assert crc16(data).to_bytes(2, "little") == FramerRTU.compute_CRC(data).to_bytes(2, "big")


def test_read_request_matches_the_xy_md02_datasheet_example() -> None:
    assert encode_read_request(1, 0x04, 0x0001, 2) == bytes.fromhex("01 04 00 01 00 02 20 0B")


@pytest.mark.parametrize(
    ("slave", "function", "address", "count"),
    [
        (0, 3, 0, 1),
        (248, 3, 0, 1),
        (1, 5, 0, 1),
        (1, 3, 0, 0),
        (1, 3, 0, 126),
        (1, 2, 0, 2001),
        (1, 3, 65535, 2),
    ],
)
def test_read_request_refuses_what_modbus_does_not_allow(
    slave: int, function: int, address: int, count: int
) -> None:
    with pytest.raises(DriverError):
        encode_read_request(slave, function, address, count)


def test_parse_read_request_round_trips_and_rejects_other_bytes() -> None:
    assert parse_read_request(encode_read_request(4, 2, 0, 8)) == ReadRequest(4, 2, 0, 8)
    with pytest.raises(DriverError):
        parse_read_request(bytes.fromhex("01 04 00 01 00 02 20 0C"))
    with pytest.raises(DriverError):
        parse_read_request(with_crc(bytes.fromhex("01 06 00 01 00 02")))


def _driver(slave: int = 1, name: str = "xy-md02") -> ModbusRtuDriver:
    return ModbusRtuDriver(slave, builtin_map(name))


def test_requests_follow_the_map_blocks() -> None:
    assert _driver(4, "di8").requests() == [
        bytes.fromhex("04 02 00 00 00 08 79 99"),
        bytes.fromhex("04 03 00 00 00 08 44 59"),
    ]


def test_input_without_an_outstanding_request_is_garbage() -> None:
    driver = _driver()
    answer = bytes.fromhex("01 04 04 00 D7 02 3A CA CF")
    assert driver.feed(answer) == []
    assert driver.stats.bytes_discarded == len(answer)


def test_expect_drops_a_late_answer_to_the_previous_request() -> None:
    driver = _driver()
    request = driver.requests()[0]
    driver.expect(request)
    assert driver.feed(bytes.fromhex("01 04 04 00 D7")) == []
    driver.expect(request)
    frames = driver.feed(bytes.fromhex("01 04 04 00 D8 02 3B 3B 0C"))
    assert [frame.values for frame in frames] == [(216, 571)]
    assert driver.stats.bytes_discarded == 5


def test_exception_answer_is_found_behind_an_incomplete_false_start() -> None:
    """`01 04 04` promises a 9-byte frame; the complete 5-byte exception after it must not wait."""
    driver = _driver()
    driver.expect(driver.requests()[0])
    frames = driver.feed(bytes.fromhex("01 04 04") + bytes.fromhex("01 84 02 C2 C1"))
    assert frames == [ModbusFrame(ReadRequest(1, 4, 1, 2), exception_code=2)]


def test_bits_are_unpacked_lsb_first_and_cut_to_the_count() -> None:
    driver = ModbusRtuDriver(9, builtin_map("di8"))
    driver.expect(encode_read_request(9, 2, 0, 10))
    (frame,) = driver.feed(with_crc(bytes.fromhex("09 02 02 81 02")))
    assert frame.values == (1, 0, 0, 0, 0, 0, 0, 1, 0, 1)


def test_buffer_stays_bounded_while_a_frame_never_completes() -> None:
    driver = ModbusRtuDriver(1, builtin_map("xy-md02"), max_buffer_bytes=64)
    driver.expect(driver.requests()[0])
    for _ in range(100):
        driver.feed(bytes(range(2, 50)))
    assert 100 * 48 - driver.stats.bytes_discarded <= 64
    assert driver.feed(bytes.fromhex("01 04 04 00 D7 02 3A CA CF"))


def test_readings_merge_blocks_and_skip_exceptions() -> None:
    driver = _driver(4, "di8")
    bits, counts = (parse_read_request(r) for r in driver.requests())
    frames = [ModbusFrame(bits, exception_code=4), ModbusFrame(counts, (1, 2, 3, 4, 5, 6, 7, 65535))]
    readings = driver.readings(frames, {"sensor": "loops"}, 5)
    assert [(r.tags["lane"], dict(r.fields)) for r in readings][-1] == ("8", {"count_total": 65535})
    assert all(r.tags["sensor"] == "loops" and r.time_ns == 5 for r in readings)
    assert len(readings) == 8
