"""Serial collectors: frames each driver decodes per second on one core, and the collector side's CPU
with 8 RS-485 buses of 5 sensors each polled every second from the simulated firmware.

    python -m benchmarks.serial --json [--duration-s 20]

The firmware runs in its own process (`python -m edge_gateway_dev.sim.serial`), so the CPU figure is the
collectors' alone: process CPU seconds over wall seconds, against a named limit of 0.10 core (a tenth
of one Raspberry Pi core for the sensors of a district, leaving the rest to SNMP, buffer and uplink).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edge_gateway.agent.collectors.serial import build_buses
from edge_gateway.agent.collectors.serial.config import SerialSection
from edge_gateway.agent.scheduler import SourceHealth
from edge_gateway.core.model import Reading
from edge_gateway.core.validation import validate
from edge_gateway.drivers import registry
from edge_gateway.drivers.framing import nmea_frame
from edge_gateway.drivers.modbus_rtu import encode_read_request, with_crc
from edge_gateway.drivers.radar import encode_request

CPU_LIMIT_CORES = 0.10
BUSES = 8
DECODE_FRAMES = 20_000
_LINKS_TIMEOUT_S = 30.0


def _rate(run: Callable[[], int]) -> float:
    """Frames per CPU second of `run` (which returns how many frames it decoded)."""
    start_s = time.process_time()
    frames = run()
    return round(frames / (time.process_time() - start_s))


def decode_rates() -> dict[str, float]:
    """Frames per second per driver, feeding one complete frame per call as a port read would."""
    modbus = registry.create("modbus-rtu", {"slave": 1, "map": "xy-md02"})
    request = encode_read_request(1, 4, 1, 2)
    response = with_crc(bytes([1, 4, 4, 0x01, 0x31, 0x02, 0x64]))
    radar = registry.create("radar", {"address": 1})
    radar_request = encode_request(1)
    radar_answer = nmea_frame("RD,1,86400,4," + ",".join(f"{n},{1000 + n},452,120" for n in range(1, 5)))
    nmea = registry.create("nmea", {})
    sentences = [
        nmea_frame("GPRMC,100000.00,A,0642.3780,S,10833.4200,E,0.0,,231126,,,A"),
        nmea_frame("GPGGA,100000.00,0642.3780,S,10833.4200,E,1,09,0.9,12.0,M,25.0,M,,"),
    ]
    line = registry.create(
        "line", {"measurement": "air_quality", "regex": r"CO2=(?P<co2_ppm>\d+),TVOC=(?P<tvoc_ppb>\d+)"}
    )

    def polled(driver: Any, ask: bytes, answer: bytes) -> Callable[[], int]:
        def run() -> int:
            decoded = 0
            for _ in range(DECODE_FRAMES):
                driver.expect(ask)
                decoded += len(driver.feed(answer))
            return decoded

        return run

    def streamed(driver: Any, chunks: Sequence[bytes]) -> Callable[[], int]:
        def run() -> int:
            return sum(len(driver.feed(chunks[i % len(chunks)])) for i in range(DECODE_FRAMES))

        return run

    return {
        "modbus-rtu": _rate(polled(modbus, request, response)),
        "radar": _rate(polled(radar, radar_request, radar_answer)),
        "nmea": _rate(streamed(nmea, sentences)),
        "line": _rate(streamed(line, [b"CO2=0412,TVOC=0030\r\n"])),
    }


def bus_config(port: Path, index: int) -> dict[str, Any]:
    """Five sensors: the four slaves of the simulated bus, and a generic map reading slave 1 again."""
    raw = {
        "name": "raw",
        "function": 4,
        "register": 1,
        "type": "s16",
        "measurement": "weather",
        "field": "raw",
    }
    sensors = [
        ("wx", {"slave": 1, "map": "xy-md02"}),
        ("pm", {"slave": 2, "map": "pm"}),
        ("noise", {"slave": 3, "map": "noise"}),
        ("loops", {"slave": 4, "map": "di8"}),
        ("wx-raw", {"slave": 1, "points": [raw]}),
    ]
    return {
        "name": f"bus{index}",
        "port": str(port),
        "sensors": [
            {"name": f"{name}{index}", "driver": "modbus-rtu", "options": options, "interval_s": 1.0}
            for name, options in sensors
        ],
    }


async def collector_cpu(duration_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        links = [Path(directory) / f"cbn-int-{i + 1:02d}-rs485" for i in range(BUSES)]
        simulator = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "edge_gateway_dev.sim.serial", "--dir", directory, "--intersections",
            str(BUSES),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert simulator.stdout is not None
            async with asyncio.timeout(_LINKS_TIMEOUT_S):  # it prints one line per port once it is up
                for _ in range(3 * BUSES):
                    await simulator.stdout.readline()
            return await _measure(links, duration_s)
        finally:
            simulator.terminate()
            await simulator.wait()


async def _measure(links: list[Path], duration_s: float) -> dict[str, Any]:
    section = validate(SerialSection, {"buses": [bus_config(link, i) for i, link in enumerate(links)]})
    counts = {"readings": 0, "rounds": 0, "up": 0, "statuses": 0}

    async def sink(readings: Sequence[Reading]) -> None:
        counts["rounds"] += 1
        counts["readings"] += len(readings)
        for reading in readings:
            if reading.measurement == "device_status":
                counts["statuses"] += 1
                counts["up"] += reading.fields["up"] is True

    health = SourceHealth()
    owners = build_buses(section, "benchmark")
    wall_start_s, cpu_start_s = time.monotonic(), time.process_time()
    tasks = [asyncio.create_task(owner.run(sink, health), name=owner.name) for owner in owners]
    await asyncio.sleep(duration_s)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    wall_s, cpu_s = time.monotonic() - wall_start_s, time.process_time() - cpu_start_s
    cores = cpu_s / wall_s
    return {
        "buses": BUSES,
        "sensors": BUSES * 5,
        "interval_s": 1.0,
        "wall_s": round(wall_s, 2),
        "cpu_s": round(cpu_s, 3),
        "cpu_cores": round(cores, 4),
        "limit_cores": CPU_LIMIT_CORES,
        "ratio_to_limit": round(cores / CPU_LIMIT_CORES, 3),
        "sensor_polls": counts["statuses"],
        "sensor_polls_up_pct": round(100 * counts["up"] / max(counts["statuses"], 1), 2),
        "readings": counts["readings"],
        "readings_per_s": round(counts["readings"] / wall_s, 1),
        "cpu_us_per_sensor_poll": round(1e6 * cpu_s / max(counts["statuses"], 1), 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serial", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the only output format)")
    parser.add_argument("--duration-s", type=float, default=20.0)
    args = parser.parse_args(argv)
    result = {
        "benchmark": "serial",
        "decode_frames_per_s": decode_rates(),
        "collector": asyncio.run(collector_cpu(args.duration_s)),
    }
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
