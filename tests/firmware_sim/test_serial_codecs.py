"""Byte-level pieces without ptys: CRC and checksums judged by pymodbus/pynmea2, slave answers, faults."""

from __future__ import annotations

import pynmea2
import pytest
from pymodbus.framer.rtu import FramerRTU

from edge_gateway_dev.sim.serial import PORTS, PortFaults, PortStats
from edge_gateway_dev.sim.serial.checksums import crc_ok, nmea_body, nmea_frame, with_crc
from edge_gateway_dev.sim.serial.faults import FaultInjector, parse_faults, spoil_checksum, spoil_crc
from edge_gateway_dev.sim.serial.gps import fix_at, sentences
from edge_gateway_dev.sim.serial.modbus import SlaveMap, answer

SLAVE: SlaveMap = {
    0x04: {1: lambda now_s: -25, 2: lambda now_s: 700},
    0x02: {0: lambda _: 1, 1: lambda _: 0, 2: lambda _: 1},
}


@pytest.mark.parametrize(
    "payload", [b"\x01\x03\x00\x00\x00\x0a", b"\x04\x02\x00\x00\x00\x08", bytes(range(40))]
)
def test_crc_matches_pymodbus(payload: bytes) -> None:
    assert with_crc(payload)[-2:] == FramerRTU.compute_CRC(payload).to_bytes(2, "big")
    assert crc_ok(with_crc(payload))
    assert not crc_ok(spoil_crc(with_crc(payload)))


def test_nmea_frame_parses_with_pynmea2_and_spoiled_checksum_is_rejected() -> None:
    frame = nmea_frame("GPZDA,010203.00,23,11,2026,00,00")
    assert pynmea2.parse(frame.decode().strip(), check=True).year == 2026
    assert nmea_body(frame.strip()) == b"GPZDA,010203.00,23,11,2026,00,00"
    with pytest.raises(pynmea2.ChecksumError):
        pynmea2.parse(spoil_checksum(frame).decode().strip(), check=True)
    assert nmea_body(spoil_checksum(frame).strip()) is None


def test_gps_sentences_carry_the_fix() -> None:
    fix = fix_at(seed=1, lat_deg=-6.7063, lon_deg=108.557, time_s=1_795_424_281.5)
    rmc, gga, zda = (pynmea2.parse(s.decode().strip(), check=True) for s in sentences(fix))
    assert rmc.latitude == pytest.approx(fix.lat_deg, abs=1e-6)
    assert gga.longitude == pytest.approx(fix.lon_deg, abs=1e-6)
    assert int(gga.num_sats) == fix.sats and int(gga.gps_qual) == 1
    assert abs(gga.latitude - -6.7063) < 5 / 111_320
    assert (zda.day, zda.month, zda.year) == (23, 11, 2026)


def request(address: int, function: int, start: int, count: int) -> bytes:
    return with_crc(bytes([address, function]) + start.to_bytes(2, "big") + count.to_bytes(2, "big"))


def test_register_read_answers_big_endian_words() -> None:
    response, served = answer(request(1, 0x04, 1, 2), SLAVE, 0.0)
    assert crc_ok(response)
    assert response[:-2] == bytes([1, 0x04, 4, 0xFF, 0xE7, 0x02, 0xBC])
    assert served == {1: 0xFFE7, 2: 700}


def test_bit_read_packs_lsb_first() -> None:
    response, _ = answer(request(4, 0x02, 0, 3), SLAVE, 0.0)
    assert response[:-2] == bytes([4, 0x02, 1, 0b101])


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (request(1, 0x03, 1, 1), 0x01),  # function the slave lacks
        (request(1, 0x04, 0, 1), 0x02),  # unmapped register
        (request(1, 0x04, 2, 2), 0x02),  # range runs past the map
        (request(1, 0x04, 1, 0), 0x03),  # zero quantity
        (with_crc(b"\x01\x04\x00\x01\x00"), 0x03),  # short request
    ],
)
def test_exceptions(frame: bytes, code: int) -> None:
    response, served = answer(frame, SLAVE, 0.0)
    assert response[1] == frame[1] | 0x80 and response[2] == code and crc_ok(response)
    assert served == {}


def test_fault_injector_applies_each_fault_and_counts_it() -> None:
    frame = with_crc(b"\x02\x03\x04\x00\x2a\x00\x48")
    stats = PortStats()
    faults = PortFaults()
    injector = FaultInjector(faults, stats, seed=1, port_key="rs485")
    assert injector.shape(frame, spoil_crc) == (b"", frame)
    faults.corrupt_rate = 1.0
    assert not crc_ok(injector.shape(frame, spoil_crc)[1])
    faults.corrupt_rate, faults.truncate_rate = 0.0, 1.0
    _, cut = injector.shape(frame, spoil_crc)
    assert frame.startswith(cut) and len(cut) < len(frame)
    faults.truncate_rate, faults.garbage_rate = 0.0, 1.0
    noise, same = injector.shape(frame, spoil_crc)
    assert same == frame and len(noise) >= 1
    assert (stats.frames_out, stats.corrupted_out, stats.truncated_out, stats.garbage_out) == (4, 1, 1, 1)


def test_parse_faults_reads_rates_and_silent_addresses() -> None:
    faults = parse_faults("rs485.corrupt=0.05, rs485.silent=3,rs485.silent=4,gps.garbage=1", PORTS)
    assert faults["rs485"] == PortFaults(corrupt_rate=0.05, silent_addresses={3, 4})
    assert faults["gps"] == PortFaults(garbage_rate=1.0)
    assert parse_faults("", PORTS) == {}


@pytest.mark.parametrize("text", ["rs485.corrupt=2", "usb.corrupt=0.1", "rs485.melt=0.1", "gps.silent=x"])
def test_parse_faults_rejects_bad_items(text: str) -> None:
    with pytest.raises(ValueError, match="fault"):
        parse_faults(text, PORTS)
