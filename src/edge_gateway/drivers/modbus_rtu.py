"""Modbus RTU master side: read requests out, their responses back, sans-I/O.

Request (functions 0x01-0x04)::

    addr(1) function(1) start(2, big-endian) quantity(2, big-endian) crc16(2, little-endian)

Response::

    addr(1) function(1) byte_count(1) data(byte_count) crc16(2)     registers big-endian, bits LSB first
    addr(1) function|0x80(1) exception_code(1) crc16(2)            exception

CRC16: polynomial 0xA001 (reflected), init 0xFFFF, sent low byte first.

Resync: RTU has no start marker and this driver does not see the 3.5-character silences (the OS and
USB adapters blur them), so it leans on knowing what it asked. After `expect(request)` it slides over
the input byte by byte until it finds a CRC-valid frame of exactly the expected shape — same
address, same function with the expected byte count, or the exception form of that function.
Everything before that frame, after it, or arriving with no request outstanding is garbage. A
candidate of the right shape whose CRC fails is counted as a checksum error and the slide goes on,
so a corrupted answer never hides a good one behind it. The buffer is bounded by `max_buffer_bytes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edge_gateway.core.model import Reading
from edge_gateway.drivers.base import DriverError, DriverStats, series_readings
from edge_gateway.drivers.modbus_maps import BIT_FUNCTIONS, MAX_READ_COUNT, RegisterMap

EXCEPTION_BIT = 0x80
_REQUEST_BYTES = 8
_EXCEPTION_BYTES = 5


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC16_TABLE = _crc16_table()


def crc16(data: bytes | bytearray | memoryview) -> int:
    """Modbus CRC16 of `data` as an integer (send it with `to_bytes(2, "little")`)."""
    crc = 0xFFFF
    table = _CRC16_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def with_crc(frame: bytes) -> bytes:
    """`frame` followed by its CRC16, low byte first."""
    return frame + crc16(frame).to_bytes(2, "little")


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """A read of `count` registers (functions 3, 4) or bits (1, 2) from `address` on `slave`."""

    slave: int
    function: int
    address: int
    count: int

    @property
    def response_data_bytes(self) -> int:
        """The byte count a normal response to this request carries."""
        return (self.count + 7) // 8 if self.function in BIT_FUNCTIONS else 2 * self.count


def encode_read_request(slave: int, function: int, address: int, count: int) -> bytes:
    """The request frame, CRC included; DriverError when a value is outside what Modbus allows."""
    if not 1 <= slave <= 247:
        raise DriverError(f"slave address {slave} outside 1-247")
    if function not in MAX_READ_COUNT:
        raise DriverError(f"function {function} is not a read function (1-4)")
    if not 1 <= count <= MAX_READ_COUNT[function] or not 0 <= address <= 0x10000 - count:
        raise DriverError(f"cannot read {count} from address {address} with function {function}")
    return with_crc(bytes([slave, function]) + address.to_bytes(2, "big") + count.to_bytes(2, "big"))


def parse_read_request(frame: bytes) -> ReadRequest:
    """The request a frame built by `encode_read_request` carries; DriverError for anything else."""
    if len(frame) != _REQUEST_BYTES or crc16(frame[:-2]) != int.from_bytes(frame[-2:], "little"):
        raise DriverError(f"not a Modbus RTU read request: {frame.hex(' ')}")
    slave, function = frame[0], frame[1]
    address, count = int.from_bytes(frame[2:4], "big"), int.from_bytes(frame[4:6], "big")
    encode_read_request(slave, function, address, count)  # validates the values
    return ReadRequest(slave, function, address, count)


@dataclass(frozen=True, slots=True)
class ModbusFrame:
    """A response matched to its request: raw values (u16 registers or 0/1 bits) or an exception."""

    request: ReadRequest
    values: tuple[int, ...] = ()
    exception_code: int | None = None


def _values(request: ReadRequest, data: bytes) -> tuple[int, ...]:
    if request.function in BIT_FUNCTIONS:
        return tuple((data[i // 8] >> (i % 8)) & 1 for i in range(request.count))
    return tuple(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))


class ResponseFinder:
    """Finds the one response to an outstanding request in a garbage-tolerant byte stream."""

    def __init__(self, stats: DriverStats, max_buffer_bytes: int = 512) -> None:
        self.stats = stats
        self._max_buffer_bytes = max_buffer_bytes
        self._buffer = bytearray()
        self._pending: ReadRequest | None = None

    def expect(self, request: ReadRequest) -> None:
        """Drop stale input and wait for the answer to `request`."""
        self.stats.bytes_discarded += len(self._buffer)
        self._buffer.clear()
        self._pending = request

    def feed(self, data: bytes) -> ModbusFrame | None:
        """The response once it is complete; garbage around it is counted and dropped."""
        request = self._pending
        if request is None:
            self.stats.bytes_discarded += len(data)
            return None
        buffer = self._buffer
        buffer += data
        frame, keep_from = self._scan(request)
        if frame is not None:
            self.stats.bytes_discarded += len(buffer) - frame_bytes(frame)
            buffer.clear()
            self._pending = None
            return frame
        keep_from = max(keep_from, len(buffer) - self._max_buffer_bytes)
        self.stats.bytes_discarded += keep_from
        del buffer[:keep_from]
        return None

    def _scan(self, request: ReadRequest) -> tuple[ModbusFrame | None, int]:
        """The first CRC-valid frame of the expected shape, and where unexamined input starts.

        A candidate too short to check yet does not stop the slide: a shorter frame (an exception)
        may be complete further on. Input from the first incomplete candidate on is kept.
        """
        buffer = self._buffer
        slave, function = request.slave, request.function
        data_bytes = request.response_data_bytes
        normal_bytes = 5 + data_bytes
        first_incomplete = -1
        pos = buffer.find(slave)
        while 0 <= pos <= len(buffer) - 2:
            code = buffer[pos + 1]
            size = 0
            if code == function and (pos + 2 >= len(buffer) or buffer[pos + 2] == data_bytes):
                size = normal_bytes
            elif code == function | EXCEPTION_BIT:
                size = _EXCEPTION_BYTES
            if size and pos + size > len(buffer):
                first_incomplete = pos if first_incomplete < 0 else first_incomplete
            elif size:
                candidate = bytes(buffer[pos : pos + size])
                if crc16(candidate[:-2]) == int.from_bytes(candidate[-2:], "little"):
                    return self._frame(request, candidate), pos
                if first_incomplete < 0:  # otherwise it is judged again, and counted, next time
                    self.stats.checksum_errors += 1
            pos = buffer.find(slave, pos + 1)
        if first_incomplete >= 0:
            return None, first_incomplete
        return None, len(buffer) - 1 if buffer and buffer[-1] == slave else len(buffer)

    def _frame(self, request: ReadRequest, candidate: bytes) -> ModbusFrame:
        self.stats.frames_decoded += 1
        if candidate[1] & EXCEPTION_BIT:
            self.stats.exception_responses += 1
            return ModbusFrame(request, exception_code=candidate[2])
        return ModbusFrame(request, _values(request, candidate[3:-2]))


def frame_bytes(frame: ModbusFrame) -> int:
    """Length on the wire of the response `frame` was decoded from."""
    if frame.exception_code is not None:
        return _EXCEPTION_BYTES
    return 5 + frame.request.response_data_bytes


class ModbusRtuDriver:
    """One slave on an RS-485 bus, read through a register map (see edge_gateway.drivers.modbus_maps)."""

    name = "modbus-rtu"

    def __init__(self, slave: int, register_map: RegisterMap, max_buffer_bytes: int = 512) -> None:
        self.stats = DriverStats()
        self.slave = slave
        self.register_map = register_map
        self._requests = [
            encode_read_request(slave, block.function, block.address, block.count)
            for block in register_map.blocks()
        ]
        self._finder = ResponseFinder(self.stats, max_buffer_bytes)

    def requests(self) -> list[bytes]:
        """One read per contiguous block of the map."""
        return list(self._requests)

    def expect(self, request: bytes) -> None:
        """Await the answer to `request` (any read request, not only the map's)."""
        self._finder.expect(parse_read_request(request))

    def feed(self, data: bytes) -> list[ModbusFrame]:
        frame = self._finder.feed(data)
        return [frame] if frame is not None else []

    def readings(self, frames: Sequence[ModbusFrame], tags: Mapping[str, str], time_ns: int) -> list[Reading]:
        """The map's fields from every register the frames carry; exception answers add nothing."""
        values: dict[tuple[int, int], int] = {}
        for frame in frames:
            request = frame.request
            if frame.exception_code is None and request.slave == self.slave:
                for i, value in enumerate(frame.values):
                    values[(request.function, request.address + i)] = value
        return series_readings(self.register_map.decode(values), tags, time_ns)
