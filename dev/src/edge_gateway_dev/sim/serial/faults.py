"""Faults on demand, per serial port, switchable at runtime.

A `PortFaults` is a plain mutable object the running devices read before every frame they send, so a
test or the fleet command flips a fault by assigning a field. Rates are probabilities per outgoing frame
(0 off, 1 every frame), drawn from the seed so a faulty run is as repeatable as a clean one. Unplugging
is not a rate but an action on the port (see `IntersectionHandle.unplug`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from edge_gateway_dev.sim.serial.daily import unit
from edge_gateway_dev.sim.serial.truth import PortStats

_MAX_GARBAGE_BYTES = 8


@dataclass
class PortFaults:
    """The faults of one port. `silent_addresses` are Modbus slaves (or the radar) that stop answering."""

    garbage_rate: float = 0.0  # garbage bytes injected before a frame (noise between frames)
    corrupt_rate: float = 0.0  # frame sent with a wrong CRC/checksum
    truncate_rate: float = 0.0  # frame loses its tail (dropped bytes)
    silent_addresses: set[int] = field(default_factory=set)

    def copy(self) -> PortFaults:
        return PortFaults(
            self.garbage_rate, self.corrupt_rate, self.truncate_rate, set(self.silent_addresses)
        )


_RATES = {"garbage": "garbage_rate", "corrupt": "corrupt_rate", "truncate": "truncate_rate"}


def parse_faults(text: str, ports: tuple[str, ...]) -> dict[str, PortFaults]:
    """Faults per port from `PORT.FAULT=VALUE` items joined by commas, for command lines.

    FAULT is garbage, corrupt or truncate with a rate 0-1, or silent with an address (repeatable):
    `rs485.corrupt=0.05,rs485.silent=3,gps.garbage=0.1`. Raises ValueError naming the bad item.
    """
    faults: dict[str, PortFaults] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, value = item.partition("=")
        port, _, fault = key.partition(".")
        if port not in ports or (fault not in _RATES and fault != "silent"):
            raise ValueError(
                f"fault {item!r}: expected PORT.FAULT=VALUE, PORT in {ports}, FAULT in {(*_RATES, 'silent')}"
            )
        try:
            number = float(value) if fault in _RATES else int(value)
        except ValueError as exc:
            raise ValueError(f"fault {item!r}: {value!r} is not a number") from exc
        target = faults.setdefault(port, PortFaults())
        if fault == "silent":
            target.silent_addresses.add(int(number))
        elif 0.0 <= number <= 1.0:
            setattr(target, _RATES[fault], number)
        else:
            raise ValueError(f"fault {item!r}: a rate is between 0 and 1")
    return faults


class FaultInjector:
    """Turns one outgoing frame into the bytes that actually leave the port, under the port's faults."""

    def __init__(self, faults: PortFaults, stats: PortStats, seed: int, port_key: str) -> None:
        self.faults = faults
        self._stats = stats
        self._seed = seed
        self._key = port_key
        self._frame_no = 0

    def _draw(self, what: str) -> float:
        return unit(self._seed, f"{self._key}:{what}", self._frame_no)

    def shape(self, frame: bytes, corrupt: Callable[[bytes], bytes]) -> tuple[bytes, bytes]:
        """(noise, frame): garbage to send before the frame (often empty), and the frame as it leaves,
        maybe corrupted by `corrupt` (which spoils its CRC or checksum) or cut short."""
        self._frame_no += 1
        out = frame
        if self._draw("corrupt") < self.faults.corrupt_rate:
            out = corrupt(out)
            self._stats.corrupted_out += 1
        if len(out) > 1 and self._draw("truncate") < self.faults.truncate_rate:
            out = out[: 1 + math.floor(self._draw("cut") * (len(out) - 1))]
            self._stats.truncated_out += 1
        noise = b""
        if self._draw("garbage") < self.faults.garbage_rate:
            length = 1 + math.floor(self._draw("garbage-len") * _MAX_GARBAGE_BYTES)
            noise = bytes(math.floor(self._draw(f"garbage-byte-{i}") * 256) for i in range(length))
            self._stats.garbage_out += 1
        self._stats.frames_out += 1
        self._stats.last_out = out
        return noise, out


def spoil_crc(frame: bytes) -> bytes:
    """A Modbus RTU frame whose CRC no longer matches (high CRC byte inverted)."""
    return frame[:-1] + bytes([frame[-1] ^ 0xFF])


def spoil_checksum(frame: bytes) -> bytes:
    """A `$...*HH\\r\\n` frame with HH replaced by a wrong (but well-formed) checksum."""
    star = frame.rfind(b"*")
    wrong = int(frame[star + 1 : star + 3], 16) ^ 0x5A
    return frame[: star + 1] + f"{wrong:02X}".encode() + frame[star + 3 :]
