"""GPS sentences and radar answers read with pyserial over the pty, judged by pynmea2 and plain XOR."""

from __future__ import annotations

import asyncio
import functools
import operator
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pynmea2
import pytest
import serial

from edge_gateway_dev.sim.serial import IntersectionHandle, make_intersection_specs, run_intersections

pytestmark = pytest.mark.integration

READ_TIMEOUT_S = 30.0  # a deadline for what must come; every read returns as soon as it has


class StepClock:
    """A clock the test moves: 07:00 WIB on 2026-11-23 plus whatever the test adds."""

    def __init__(self) -> None:
        self.now_s = datetime(2026, 11, 23, 0, 0, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
async def intersection(tmp_path: Path, clock: StepClock) -> AsyncIterator[IntersectionHandle]:
    specs = make_intersection_specs(1, seed=21)
    async with run_intersections(specs, tmp_path, clock=clock, gps_interval_s=0.2) as handles:
        yield handles[0]


def read_lines(path: Path, count: int) -> list[bytes]:
    with serial.Serial(str(path), baudrate=9600, timeout=READ_TIMEOUT_S) as port:
        return [port.readline() for _ in range(count)]


async def wait_for(condition: Callable[[], bool], what: str, deadline_s: float = READ_TIMEOUT_S) -> None:
    try:
        async with asyncio.timeout(deadline_s):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out after {deadline_s} s waiting for {what}") from None


def read_through(port: serial.Serial, end: bytes) -> bytes:
    """Everything up to and including `end`, however slowly it comes (noise before it included)."""
    received = b""
    while not received.endswith(end):
        chunk = port.read(max(1, port.in_waiting))
        if not chunk:
            raise AssertionError(f"{received!r} stopped before {end!r}")
        received += chunk
    return received


async def exchange(intersection: IntersectionHandle, frame: bytes) -> bytes:
    """Write one frame to the radar and return all it sent back (nothing if it did not answer): waits
    for the simulator to have handled the frame, never for a quiet spell on the line."""
    stats = intersection.truth.ports["radar"]
    handled, answered = stats.frames_in + stats.ignored_in, stats.frames_out
    with serial.Serial(str(intersection.paths["radar"]), baudrate=9600, timeout=READ_TIMEOUT_S) as port:
        await asyncio.to_thread(port.write, frame)
        await wait_for(lambda: stats.frames_in + stats.ignored_in > handled, f"the radar to handle {frame!r}")
        if stats.frames_out == answered:
            return b""
        return await asyncio.to_thread(read_through, port, stats.last_out)


def framed(body: str) -> bytes:
    checksum = functools.reduce(operator.xor, body.encode(), 0)
    return f"${body}*{checksum:02X}\r\n".encode()


def checksum_ok(frame: bytes) -> bool:
    body, _, checksum = frame[1:].removesuffix(b"\r\n").partition(b"*")
    return int(checksum, 16) == functools.reduce(operator.xor, body, 0)


def radar_fields(frame: bytes) -> list[int]:
    """The numbers of a `$RD` answer after checking its framing and checksum independently."""
    assert frame.startswith(b"$RD,") and frame.endswith(b"\r\n") and checksum_ok(frame)
    return [int(field) for field in frame[4:-5].split(b",")]


async def test_gps_streams_valid_rmc_gga_zda_at_the_intersection(intersection: IntersectionHandle) -> None:
    lines = await asyncio.to_thread(read_lines, intersection.paths["gps"], 9)
    parsed = [pynmea2.parse(line.decode("ascii").strip(), check=True) for line in lines]
    assert {sentence.sentence_type for sentence in parsed} == {"RMC", "GGA", "ZDA"}
    spec = intersection.spec
    for sentence in parsed:
        if sentence.sentence_type in ("RMC", "GGA"):
            assert abs(sentence.latitude - spec.lat_deg) < 5 / 111_320
            assert abs(sentence.longitude - spec.lon_deg) < 5 / 111_320
        if sentence.sentence_type == "GGA":
            assert 6 <= int(sentence.num_sats) <= 12 and int(sentence.gps_qual) == 1
        if sentence.sentence_type == "ZDA":
            assert sentence.datetime == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    assert intersection.truth.gps is not None and intersection.truth.gps.sats >= 6


async def test_gps_output_nobody_reads_is_lost_not_queued(
    intersection: IntersectionHandle, clock: StepClock
) -> None:
    stats = intersection.truth.ports["gps"]
    await wait_for(lambda: stats.dropped_out_bytes > 0, "unread GPS output dropped")
    clock.now_s += 3600
    dropped_before_bytes = stats.dropped_out_bytes
    await wait_for(lambda: stats.dropped_out_bytes > dropped_before_bytes, "the old hour's output dropped")
    lines = await asyncio.to_thread(read_lines, intersection.paths["gps"], 3)
    parsed = [pynmea2.parse(line.decode("ascii").strip(), check=True) for line in lines]
    assert all(sentence.timestamp.hour == 1 for sentence in parsed)


async def test_gps_checksum_fault_is_caught_by_pynmea2(intersection: IntersectionHandle) -> None:
    intersection.faults["gps"].corrupt_rate = 1.0
    lines = await asyncio.to_thread(read_lines, intersection.paths["gps"], 3)
    for line in lines:
        with pytest.raises(pynmea2.ChecksumError):
            pynmea2.parse(line.decode("ascii").strip(), check=True)


async def test_gps_unplug_hangs_up_the_reader_and_replug_streams_again(
    intersection: IntersectionHandle,
) -> None:
    path = intersection.paths["gps"]
    with serial.Serial(str(path), baudrate=9600, timeout=READ_TIMEOUT_S) as port:
        assert (await asyncio.to_thread(port.readline)).startswith(b"$GP")
        intersection.unplug("gps")
        assert not path.exists()
        with pytest.raises(serial.SerialException):
            await asyncio.to_thread(port.read, 4096)
    intersection.replug("gps")
    lines = await asyncio.to_thread(read_lines, path, 3)
    assert all(pynmea2.parse(line.decode("ascii").strip(), check=True) for line in lines)


async def test_radar_answers_a_request_with_the_ground_truth(
    intersection: IntersectionHandle, clock: StepClock
) -> None:
    first = radar_fields(await exchange(intersection, framed("RQ,1")))
    clock.now_s += 300
    second = radar_fields(await exchange(intersection, framed("RQ,1")))
    report = intersection.truth.radar
    assert report is not None
    address, uptime_s, lanes = second[:3]
    assert (address, lanes) == (1, intersection.spec.radar_lanes)
    assert uptime_s == report.uptime_s == first[1] + 300
    groups = [tuple(second[3 + 4 * i : 7 + 4 * i]) for i in range(lanes)]
    assert groups == [(lane.lane, lane.count, lane.speed_dkmh, lane.occupancy_dpct) for lane in report.lanes]
    first_counts = [first[4 + 4 * i] for i in range(lanes)]
    assert all(count > before for (_, count, _, _), before in zip(groups, first_counts, strict=True))
    assert all(50 < speed < 700 and 0 < occupancy < 1000 for (_, _, speed, occupancy) in groups)


async def test_radar_ignores_bad_checksum_and_other_address(intersection: IntersectionHandle) -> None:
    good = framed("RQ,1")
    bad_checksum = good.replace(good[-4:-2], b"00" if good[-4:-2] != b"00" else b"11")
    assert await exchange(intersection, bad_checksum) == b""
    assert await exchange(intersection, framed("RQ,2")) == b""
    assert await exchange(intersection, b"\xff\x00noise" + good) != b""
    stats = intersection.truth.ports["radar"]
    assert (stats.ignored_in, stats.frames_in, stats.frames_out) == (2, 1, 1)


async def test_radar_faults_show_on_the_wire(intersection: IntersectionHandle) -> None:
    faults = intersection.faults["radar"]
    faults.garbage_rate = 1.0
    noisy = await exchange(intersection, framed("RQ,1"))
    start = noisy.index(b"$RD,")
    assert start > 0 and radar_fields(noisy[start:])
    faults.garbage_rate, faults.truncate_rate = 0.0, 1.0
    cut = await exchange(intersection, framed("RQ,1"))
    assert cut.startswith(b"$") and not cut.endswith(b"\r\n")
    faults.truncate_rate, faults.corrupt_rate = 0.0, 1.0
    spoiled = await exchange(intersection, framed("RQ,1"))
    assert spoiled.startswith(b"$RD,") and not checksum_ok(spoiled)
    faults.corrupt_rate = 0.0
    faults.silent_addresses.add(1)
    assert await exchange(intersection, framed("RQ,1")) == b""
    faults.silent_addresses.clear()
    assert radar_fields(await exchange(intersection, framed("RQ,1")))


async def test_radar_reboot_starts_uptime_and_counts_again(
    intersection: IntersectionHandle, clock: StepClock
) -> None:
    clock.now_s += 120
    before = radar_fields(await exchange(intersection, framed("RQ,1")))
    intersection.reboot("radar")
    clock.now_s += 60
    after = radar_fields(await exchange(intersection, framed("RQ,1")))
    assert before[1] > 3600 and after[1] == 60
    assert all(after[4 + 4 * i] < before[4 + 4 * i] for i in range(after[2]))
    with pytest.raises(ValueError, match="gps"):
        intersection.reboot("gps")
