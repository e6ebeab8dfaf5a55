"""Checksums and framing shared by the simulated firmware: Modbus CRC16 and NMEA-style XOR sums.

Written here rather than borrowed from pymodbus so the firmware owns every byte it sends; the tests
then use pymodbus and pynmea2 as independent judges of the result.
"""

from __future__ import annotations


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC16_TABLE = _crc16_table()


def crc16_modbus(data: bytes) -> int:
    """Modbus CRC16 (reflected polynomial 0xA001, init 0xFFFF) of `data`."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC16_TABLE[(crc ^ byte) & 0xFF]
    return crc


def with_crc(frame: bytes) -> bytes:
    """`frame` followed by its CRC16, low byte first as Modbus RTU sends it."""
    return frame + crc16_modbus(frame).to_bytes(2, "little")


def crc_ok(frame: bytes) -> bool:
    """True when the last two bytes of `frame` are the CRC16 of the bytes before them."""
    return len(frame) >= 3 and crc16_modbus(frame[:-2]) == int.from_bytes(frame[-2:], "little")


def nmea_checksum(body: bytes) -> int:
    """XOR of every byte of `body` (the bytes between `$` and `*`)."""
    total = 0
    for byte in body:
        total ^= byte
    return total


def nmea_frame(body: str) -> bytes:
    """`$body*HH\\r\\n` with HH the XOR checksum in upper-case hex."""
    raw = body.encode("ascii")
    return b"$" + raw + b"*" + f"{nmea_checksum(raw):02X}".encode() + b"\r\n"


def nmea_body(line: bytes) -> bytes | None:
    """The body of one `$body*HH` line (CR/LF already stripped) when its checksum holds, else None.

    Either hex case is accepted for HH: being lenient in what we receive costs nothing here.
    """
    if not line.startswith(b"$") or len(line) < 4 or line[-3:-2] != b"*":
        return None
    body = line[1:-3]
    try:
        wanted = int(line[-2:], 16)
    except ValueError:
        return None
    return body if nmea_checksum(body) == wanted else None
