"""Line framing shared by the ASCII drivers (NMEA, radar, line) and the NMEA-style XOR checksum.

Two ways to cut a byte stream into lines, both with a bounded buffer so that a port spewing noise
without a delimiter can never grow memory:

- with a start byte (`$` for NMEA and the radar): a line runs from `$` to the delimiter. Bytes before
  a `$` are garbage; a second `$` before the delimiter means the first line was cut off, so framing
  restarts there. A line longer than `max_line_bytes` is dropped and framing waits for the next `$`.
- without one (the line driver): a line runs between two delimiters. A line longer than
  `max_line_bytes` is dropped up to and including the next delimiter.
"""

from __future__ import annotations

from edge_gateway.drivers.base import DriverStats

_HEX_DIGITS = frozenset(b"0123456789ABCDEFabcdef")


class LineFramer:
    """Cuts a byte stream into lines (delimiter removed); counts dropped bytes in `stats`."""

    def __init__(
        self, stats: DriverStats, *, delimiter: bytes, max_line_bytes: int, start: bytes = b""
    ) -> None:
        if not delimiter or len(start) > 1:
            raise ValueError("delimiter must be non-empty and start at most one byte")
        self._stats = stats
        self._delimiter = delimiter
        self._max_line_bytes = max_line_bytes
        self._start = start
        self._buffer = bytearray()
        self._skipping = False

    def clear(self) -> None:
        """Drop whatever is buffered (counted as discarded), e.g. stale input before a new request."""
        self._stats.bytes_discarded += len(self._buffer)
        self._buffer.clear()
        self._skipping = False

    def push(self, data: bytes) -> list[bytes]:
        """The lines completed by `data`, in order."""
        self._buffer += data
        if self._start:
            lines, used = self._cut_started()
        else:
            lines, used = self._cut_delimited()
        del self._buffer[:used]
        return lines

    def _cut_started(self) -> tuple[list[bytes], int]:
        buffer, start, delimiter = self._buffer, self._start, self._delimiter
        lines: list[bytes] = []
        pos = 0
        while pos < len(buffer):
            begin = buffer.find(start, pos)
            if begin < 0:
                self._stats.bytes_discarded += len(buffer) - pos
                return lines, len(buffer)
            self._stats.bytes_discarded += begin - pos
            pos = begin
            end = buffer.find(delimiter, pos + 1)
            restart = buffer.find(start, pos + 1, end if end >= 0 else len(buffer))
            if restart >= 0:
                self._stats.bytes_discarded += restart - pos
                pos = restart
                continue
            if end < 0:
                if len(buffer) - pos > self._max_line_bytes:
                    self._stats.bytes_discarded += len(buffer) - pos
                    return lines, len(buffer)
                return lines, pos
            line = bytes(buffer[pos:end]).removesuffix(b"\r")
            if len(line) > self._max_line_bytes:
                self._stats.bytes_discarded += end + len(delimiter) - pos
            else:
                lines.append(line)
            pos = end + len(delimiter)
        return lines, pos

    def _cut_delimited(self) -> tuple[list[bytes], int]:
        buffer, delimiter = self._buffer, self._delimiter
        lines: list[bytes] = []
        pos = 0
        while True:
            end = buffer.find(delimiter, pos)
            if end < 0:
                pending = len(buffer) - pos
                if pending > self._max_line_bytes:
                    # Keep a possible first part of a split delimiter so the next line still ends.
                    dropped = pending - (len(delimiter) - 1)
                    self._stats.bytes_discarded += dropped
                    self._skipping = True
                    return lines, pos + dropped
                return lines, pos
            line = bytes(buffer[pos:end])
            if self._skipping or len(line) > self._max_line_bytes:
                self._stats.bytes_discarded += len(line) + len(delimiter)
                self._skipping = False
            elif line:
                lines.append(line)
            pos = end + len(delimiter)


def xor_checksum(body: bytes) -> int:
    """XOR of every byte of `body`: the NMEA 0183 checksum."""
    total = 0
    for byte in body:
        total ^= byte
    return total


def checked_body(line: bytes) -> bytes | None:
    """The body of a `$body*HH` line when HH (either hex case) matches its XOR sum, else None.

    A line without `*HH` is treated as failing its checksum: every sentence in this project's
    protocols carries one, so a missing sum means a damaged line.
    """
    if len(line) < 4 or line[0:1] != b"$" or line[-3:-2] != b"*":
        return None
    digits = line[-2:]
    if not all(byte in _HEX_DIGITS for byte in digits):
        return None
    body = line[1:-3]
    return body if xor_checksum(body) == int(digits, 16) else None


def nmea_frame(body: str) -> bytes:
    """`$body*HH\\r\\n` with the upper-case XOR checksum, as the radar request is sent."""
    raw = body.encode("ascii")
    return b"$" + raw + b"*" + f"{xor_checksum(raw):02X}".encode("ascii") + b"\r\n"
