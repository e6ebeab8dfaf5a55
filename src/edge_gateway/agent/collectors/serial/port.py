"""The byte seam of the serial collectors: a port that writes, reads with a deadline and closes.

`SerialPort` is pyserial for opening and line settings, and the event loop's `add_reader` on the
file descriptor for everything after: one reader callback per port appends to a buffer, so a read
with a deadline, a zero-wait drain of stale input and the detection of an unplugged adapter (the
descriptor turns readable and yields nothing, or EIO) all stay in the loop without a thread.
The `Port` protocol is four members so a test fake is a few lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from typing import Protocol

import serial

_READ_MAX_BYTES = 4096


class SerialCollectorError(Exception):
    """Base of the serial collectors' exceptions."""


class PortError(SerialCollectorError):
    """The port cannot be opened, or went away (adapter unplugged, hangup); chained to the OS error."""


class NoAnswer(SerialCollectorError):
    """A sensor did not answer a request within its timeout."""


class Port(Protocol):
    async def write(self, data: bytes) -> None:
        """Queue `data` for sending; PortError when the port is gone."""
        ...

    async def read(self, timeout_s: float) -> bytes:
        """What arrived, waiting up to `timeout_s` for the first byte (0: do not wait); b"" when nothing
        came. PortError when the port is gone and nothing is left to read."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class PortSettings:
    path: str
    baud: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1


class SerialPort:
    """A real serial port (or pty) read through the running event loop."""

    def __init__(self, handle: serial.Serial) -> None:
        self._handle = handle
        self._fd = handle.fileno()
        os.set_blocking(self._fd, False)
        self._loop = asyncio.get_running_loop()
        self._buffer = bytearray()
        self._arrived = asyncio.Event()
        self._error: OSError | None = None
        self._loop.add_reader(self._fd, self._readable)

    @classmethod
    def open(cls, settings: PortSettings) -> SerialPort:
        """Open and configure the port exclusively (one user per port); PortError when it cannot."""
        try:
            handle = serial.Serial(
                settings.path,
                baudrate=settings.baud,
                bytesize=settings.bytesize,
                parity=settings.parity,
                stopbits=settings.stopbits,
                timeout=0,
                exclusive=True,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise PortError(f"cannot open {settings.path}: {exc}") from exc
        return cls(handle)

    def _readable(self) -> None:
        try:
            chunk = os.read(self._fd, _READ_MAX_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fail(exc)
            return
        if not chunk:  # readable but empty: the other end hung up
            self._fail(OSError("device reports readiness to read but returned no data (hangup)"))
            return
        self._buffer += chunk
        self._arrived.set()

    def _fail(self, exc: OSError) -> None:
        self._error = exc
        self._loop.remove_reader(self._fd)
        self._arrived.set()

    async def read(self, timeout_s: float) -> bytes:
        if not self._buffer and self._error is None and timeout_s > 0:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self._arrived.wait()
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            return data
        if self._error is not None:
            raise PortError(f"{self._handle.port}: {self._error}") from self._error
        return b""

    async def write(self, data: bytes) -> None:
        if self._error is not None:
            raise PortError(f"{self._handle.port}: {self._error}") from self._error
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._fd, view) :]
            except (BlockingIOError, InterruptedError):
                await self._writable()
            except OSError as exc:
                raise PortError(f"{self._handle.port}: write failed: {exc}") from exc

    async def _writable(self) -> None:
        ready: asyncio.Future[None] = self._loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        self._loop.add_writer(self._fd, wake)
        try:
            await ready
        finally:
            self._loop.remove_writer(self._fd)

    def close(self) -> None:
        if self._error is None:
            self._loop.remove_reader(self._fd)
        with contextlib.suppress(OSError, serial.SerialException):
            self._handle.close()
