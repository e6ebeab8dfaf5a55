"""A fake port at the byte seam and Modbus slaves that answer through it, for the serial collector tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from edge_gateway.agent.collectors.serial.port import PortError
from edge_gateway.drivers.modbus_rtu import parse_read_request, with_crc


class FakePort:
    """Answers each write at once through `answer` (None: silence); records when bytes moved."""

    def __init__(self, answer: Callable[[bytes], bytes | None]) -> None:
        self.answer = answer
        self.writes: list[tuple[float, bytes]] = []
        self.deliveries: list[float] = []  # loop time each chunk was handed to the reader
        self.broken = False
        self.closed = False
        self._pending = bytearray()
        self._arrived = asyncio.Event()

    def inject(self, data: bytes) -> None:
        """Bytes arriving unasked (noise, a late answer)."""
        self._pending += data
        self._arrived.set()

    async def write(self, data: bytes) -> None:
        if self.broken:
            raise PortError("hangup")
        self.writes.append((asyncio.get_running_loop().time(), data))
        answer = self.answer(data)
        if answer:
            self.inject(answer)

    async def read(self, timeout_s: float) -> bytes:
        if not self._pending and not self.broken and timeout_s > 0:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self._arrived.wait()
        if self._pending:
            data = bytes(self._pending)
            self._pending.clear()
            self.deliveries.append(asyncio.get_running_loop().time())
            return data
        if self.broken:
            raise PortError("hangup")
        return b""

    def close(self) -> None:
        self.closed = True


class FakeSlaves:
    """Modbus slaves whose registers all hold `value(slave, address)`; silent ones answer nothing."""

    def __init__(
        self, value: Callable[[int, int], int] = lambda slave, address: 100 * slave + address
    ) -> None:
        self.value = value
        self.silent: set[int] = set()
        self.asked: list[int] = []

    def __call__(self, request: bytes) -> bytes | None:
        parsed = parse_read_request(request)
        self.asked.append(parsed.slave)
        if parsed.slave in self.silent:
            return None
        if parsed.function in (1, 2):
            bits = [self.value(parsed.slave, parsed.address + i) & 1 for i in range(parsed.count)]
            data = bytes(
                sum(bit << (i % 8) for i, bit in enumerate(bits) if i // 8 == n)
                for n in range((len(bits) + 7) // 8)
            )
        else:
            data = b"".join(
                (self.value(parsed.slave, parsed.address + i) & 0xFFFF).to_bytes(2, "big")
                for i in range(parsed.count)
            )
        return with_crc(bytes([parsed.slave, parsed.function, len(data)]) + data)


class Plug:
    """Opens the fake port while plugged in; unplugging breaks the open one and makes opening fail."""

    def __init__(self, answer: Callable[[bytes], bytes | None]) -> None:
        self.answer = answer
        self.plugged = True
        self.ports: list[FakePort] = []

    def open(self) -> FakePort:
        if not self.plugged:
            raise PortError("cannot open /dev/fake: no such file")
        port = FakePort(self.answer)
        self.ports.append(port)
        return port

    def unplug(self) -> None:
        self.plugged = False
        for port in self.ports:
            port.broken = True
