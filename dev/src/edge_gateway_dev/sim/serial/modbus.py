"""Modbus RTU slaves on one simulated RS-485 bus, handled byte by byte.

Request frame (every read function):

    addr(1) function(1) start(2, big-endian) quantity(2, big-endian) crc16(2, little-endian)

A frame ends after 3.5 character times of silence (about 4 ms at 9600 baud), as the standard says;
a frame with a bad CRC, for an address no slave on the bus has, or for a silenced slave gets no answer.
Exceptions: 0x01 for a function the slave lacks, 0x03 for a malformed request or a quantity outside
the standard's limits, 0x02 when any register of the range is unmapped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from edge_gateway_dev.sim.serial.checksums import crc_ok, with_crc
from edge_gateway_dev.sim.serial.faults import FaultInjector, spoil_crc
from edge_gateway_dev.sim.serial.pty_port import PtyPort
from edge_gateway_dev.sim.serial.truth import TABLE_NAMES, PortStats

# One slave's data: function code -> register/bit address -> value at a given clock time.
SlaveMap = Mapping[int, Mapping[int, Callable[[float], int]]]

ILLEGAL_FUNCTION = 0x01
ILLEGAL_DATA_ADDRESS = 0x02
ILLEGAL_DATA_VALUE = 0x03
_BIT_FUNCTIONS = (0x01, 0x02)
_MAX_QUANTITY = {0x01: 2000, 0x02: 2000, 0x03: 125, 0x04: 125}
_REQUEST_BYTES = 8
SILENCE_S = 3.5 * 11 / 9600  # 3.5 characters of 11 bits (start, 8 data, parity slot, stop) at 9600


def exception_frame(address: int, function: int, code: int) -> bytes:
    return with_crc(bytes([address, function | 0x80, code]))


def answer(request: bytes, slave: SlaveMap, now_s: float) -> tuple[bytes, dict[int, int]]:
    """The response to a request frame (CRC included, already checked) for this slave, and the values
    it served by register address."""
    address, function = request[0], request[1]
    if function not in slave:
        return exception_frame(address, function, ILLEGAL_FUNCTION), {}
    if len(request) != _REQUEST_BYTES:
        return exception_frame(address, function, ILLEGAL_DATA_VALUE), {}
    start = int.from_bytes(request[2:4], "big")
    quantity = int.from_bytes(request[4:6], "big")
    if not 1 <= quantity <= _MAX_QUANTITY.get(function, 0):
        return exception_frame(address, function, ILLEGAL_DATA_VALUE), {}
    table = slave[function]
    wanted = range(start, start + quantity)
    if any(register not in table for register in wanted):
        return exception_frame(address, function, ILLEGAL_DATA_ADDRESS), {}
    if function in _BIT_FUNCTIONS:
        served = {register: 1 if table[register](now_s) else 0 for register in wanted}
        packed = bytearray((quantity + 7) // 8)
        for i, register in enumerate(wanted):
            packed[i // 8] |= served[register] << (i % 8)
        data = bytes(packed)
    else:
        served = {register: table[register](now_s) & 0xFFFF for register in wanted}
        data = b"".join(served[register].to_bytes(2, "big") for register in wanted)
    return with_crc(bytes([address, function, len(data)]) + data), served


class ModbusBus:
    """The slaves sharing one RS-485 port; records what it served in `registers`."""

    def __init__(
        self,
        slaves: Mapping[int, SlaveMap],
        port: PtyPort,
        injector: FaultInjector,
        stats: PortStats,
        registers: dict[tuple[int, str, int], int],
        clock: Callable[[], float],
    ) -> None:
        self._slaves = slaves
        self._port = port
        self._injector = injector
        self._stats = stats
        self._registers = registers
        self._clock = clock
        self._frame = bytearray()
        self._silence: asyncio.TimerHandle | None = None

    def on_data(self, data: bytes) -> None:
        """Collect bytes until the line has been silent long enough to end the frame."""
        self._frame += data
        if self._silence is not None:
            self._silence.cancel()
        self._silence = asyncio.get_running_loop().call_later(SILENCE_S, self._end_of_frame)

    def _end_of_frame(self) -> None:
        frame, self._frame, self._silence = bytes(self._frame), bytearray(), None
        slave = self._slaves.get(frame[0]) if len(frame) >= 4 and crc_ok(frame) else None
        if slave is None:
            self._stats.ignored_in += 1
            return
        self._stats.frames_in += 1
        if frame[0] in self._injector.faults.silent_addresses:
            self._stats.silenced_in += 1
            return
        response, served = answer(frame, slave, self._clock())
        table = TABLE_NAMES.get(frame[1], "")
        for register, value in served.items():
            self._registers[(frame[0], table, register)] = value
        noise, response = self._injector.shape(response, spoil_crc)
        if noise:
            # Noise is a frame of its own on the line: the response follows after the silence that
            # separates frames, so a timing-aware poller could drop it.
            self._port.write(noise)
            asyncio.get_running_loop().call_later(SILENCE_S, self._port.write, response)
        else:
            self._port.write(response)
