"""`edge probe serial PORT --driver modbus-rtu --scan`: which Modbus addresses answer on a bus.

Each address in the range is asked for one holding register (function 3, register 0). A normal
answer and an exception answer both prove a device is there (a device that has no register 0 says
"illegal data address"); silence for `timeout_s` means nobody. Requests are spaced by the RTU
inter-frame gap so a slow answer from one address is not taken for the next one's.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from edge_gateway.agent.collectors.serial.port import Port
from edge_gateway.agent.collectors.serial.timing import inter_frame_gap_s
from edge_gateway.drivers.base import DriverStats
from edge_gateway.drivers.modbus_rtu import ResponseFinder, encode_read_request, parse_read_request

FIRST_ADDRESS, LAST_ADDRESS = 1, 247


@dataclass(frozen=True, slots=True)
class Answer:
    address: int
    register_0: int | None  # holding register 0, when the answer was a normal one
    exception_code: int | None  # when the answer was an exception

    def __str__(self) -> str:
        if self.exception_code is None:
            return f"address {self.address}: answers, holding register 0 = {self.register_0}"
        return f"address {self.address}: answers with Modbus exception {self.exception_code}"


def address_range(text: str) -> range:
    """`1-247` or `5`: the addresses to ask; ValueError outside 1-247."""
    first, _, last = text.partition("-")
    start, end = int(first), int(last or first)
    if not FIRST_ADDRESS <= start <= end <= LAST_ADDRESS:
        raise ValueError(f"--scan-range {text!r}: expected N or N-M within {FIRST_ADDRESS}-{LAST_ADDRESS}")
    return range(start, end + 1)


async def ask(port: Port, address: int, timeout_s: float) -> Answer | None:
    """The answer of `address` to one read of register 0, or None after `timeout_s` of silence."""
    frame = encode_read_request(address, 3, 0, 1)
    finder = ResponseFinder(DriverStats())
    finder.expect(parse_read_request(frame))
    await port.write(frame)
    loop = asyncio.get_running_loop()
    deadline_s = loop.time() + timeout_s
    while (remaining_s := deadline_s - loop.time()) > 0:
        data = await port.read(remaining_s)
        found = finder.feed(data) if data else None
        if found is not None:
            value = found.values[0] if found.values else None
            return Answer(address, value, found.exception_code)
    return None


async def scan(port: Port, addresses: range, baud: int, timeout_s: float) -> list[Answer]:
    """Every address of `addresses` that answered, in order."""
    gap_s = inter_frame_gap_s(baud)
    answers = []
    for address in addresses:
        answer = await ask(port, address, timeout_s)
        if answer is not None:
            answers.append(answer)
        await asyncio.sleep(gap_s)  # the line's required silence before the next frame
    return answers
