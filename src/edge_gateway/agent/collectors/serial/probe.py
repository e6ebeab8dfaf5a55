"""`edge probe serial PORT --driver NAME ...`: read one sensor, to check wiring and options.

A request/response sensor is polled every `--interval-s` for `--duration-s` (the readings of the last
round are printed), a talker (nmea, line) is listened to for `--duration-s`: the port's
`serial_bus` reading then gives the line's utilisation over that window, not over the one request.
The output is the readings, the sensor's `device_status` and the port's `serial_bus` reading, as a
JSON array (`{"measurement", "tags", "fields", "time_ns"}`), line protocol or a table. `--scan` lists
the Modbus addresses that answer on the bus instead (src/edge_gateway/agent/collectors/serial/scan.py). Exit
status: 0 when
the sensor answered (with `--scan`: any address), 1 when none did, 2 for bad options or a port that
cannot be opened.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tomllib
from typing import Any

from edge_gateway.agent.collectors.serial import build_bus
from edge_gateway.agent.collectors.serial.bus import PolledBus
from edge_gateway.agent.collectors.serial.config import SerialBus
from edge_gateway.agent.collectors.serial.port import PortError, PortSettings, SerialPort
from edge_gateway.agent.collectors.serial.scan import address_range, scan
from edge_gateway.agent.collectors.serial.stream import StreamingBus
from edge_gateway.agent.scheduler import SourceHealth
from edge_gateway.core import schema
from edge_gateway.core.config import ConfigError
from edge_gateway.core.lineproto import encode_many
from edge_gateway.core.model import Reading

EXIT_NO_ANSWER = 1
EXIT_BAD_USAGE = 2
_ADDRESS_OPTION = {"modbus-rtu": "slave", "radar": "address"}


def option_value(text: str) -> Any:
    """A TOML value when the text is one (`7`, `true`, `[1, 2]`, `"x"`), else the text itself."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def probe_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--option {item!r}: expected key=value")
        options[key.strip()] = option_value(value.strip())
    if args.address is not None:
        key = _ADDRESS_OPTION.get(args.driver)
        if key is None:
            raise ValueError(f"--address does not apply to driver {args.driver!r}")
        options[key] = args.address
    return options


def render(readings: list[Reading], fmt: str) -> str:
    if fmt == "json":
        rows = [
            {
                "measurement": r.measurement,
                "tags": dict(r.tags),
                "fields": dict(r.fields),
                "time_ns": r.time_ns,
            }
            for r in readings
        ]
        return json.dumps(rows, indent=2)
    if fmt == "lp":
        return "\n".join(encode_many(readings))
    lines = []
    for reading in readings:
        tags = ",".join(f"{k}={v}" for k, v in sorted(reading.tags.items()))
        fields = " ".join(f"{k}={v}" for k, v in reading.fields.items())
        lines.append(f"{reading.measurement:<14} {tags:<48} {fields}")
    return "\n".join(lines)


async def probe(bus: SerialBus, duration_s: float, interval_s: float = 1.0) -> list[Reading]:
    """The last of the poll rounds `interval_s` apart within `duration_s` (at least one), or
    `duration_s` of listening; PortError when the port cannot be opened."""
    owner = build_bus(bus, "probe")
    health = SourceHealth()
    if isinstance(owner, PolledBus):
        loop = asyncio.get_running_loop()
        owner.stats.window_start_s = start_s = loop.time()
        if owner.keeper.ensure_open(health) is None:
            raise PortError(owner.keeper.error)
        try:
            rounds = 1
            readings = await owner.poll_round(owner.sensors, health)
            while rounds * interval_s <= duration_s:
                await asyncio.sleep(start_s + rounds * interval_s - loop.time())  # the next slot
                readings = await owner.poll_round(owner.sensors, health)
                rounds += 1
            return readings
        finally:
            owner.keeper.close()
    assert isinstance(owner, StreamingBus)
    loop = asyncio.get_running_loop()
    owner.stats.window_start_s = loop.time()
    port = owner.keeper.ensure_open(health)
    if port is None:
        raise PortError(owner.keeper.error)
    try:
        deadline_s = loop.time() + duration_s
        while (remaining_s := deadline_s - loop.time()) > 0:
            data = await port.read(remaining_s)
            if data:
                owner.take(data, loop.time())
        return owner.emit(health)
    finally:
        owner.keeper.close()


async def scan_port(args: argparse.Namespace, addresses: range) -> list[str]:
    """The answers of a `--scan`, one line each."""
    port = SerialPort.open(PortSettings(args.port, args.baud))
    try:
        return [str(answer) for answer in await scan(port, addresses, args.baud, args.timeout_s)]
    finally:
        port.close()


def cmd_scan(args: argparse.Namespace) -> int:
    try:
        if args.driver not in (None, "modbus-rtu"):
            raise ValueError("--scan applies to Modbus RTU only")
        addresses = address_range(args.scan_range)
    except ValueError as exc:
        print(f"probe serial: {exc}", file=sys.stderr)
        return EXIT_BAD_USAGE
    try:
        answers = asyncio.run(scan_port(args, addresses))
    except PortError as exc:
        print(f"probe serial: {exc}", file=sys.stderr)
        return EXIT_BAD_USAGE
    print("\n".join(answers) if answers else f"no address of {args.scan_range} answered")
    return 0 if answers else EXIT_NO_ANSWER


def cmd_probe_serial(args: argparse.Namespace) -> int:
    from edge_gateway.core.validation import validate

    if args.scan:
        return cmd_scan(args)
    if args.driver is None:
        print("probe serial: --driver is required (or --scan)", file=sys.stderr)
        return EXIT_BAD_USAGE
    try:
        sensor = {
            "name": "probe",
            "driver": args.driver,
            "options": probe_options(args),
            "interval_s": args.interval_s,
            "timeout_s": args.timeout_s,
        }
        bus = validate(
            SerialBus, {"name": "probe", "port": args.port, "baud": args.baud, "sensors": [sensor]}
        )
    except (ConfigError, ValueError) as exc:
        for problem in exc.problems if isinstance(exc, ConfigError) else [str(exc)]:
            print(f"probe serial: {problem}", file=sys.stderr)
        return EXIT_BAD_USAGE
    # The outcome is printed below; the down/recovered log lines of a long-running owner would repeat it.
    logging.getLogger("edge_gateway.agent.scheduler").setLevel(logging.ERROR)
    try:
        readings = asyncio.run(probe(bus, args.duration_s, args.interval_s))
    except PortError as exc:
        print(f"probe serial: {exc}", file=sys.stderr)
        return EXIT_BAD_USAGE
    print(render(readings, args.format))
    status = next(r for r in readings if r.measurement == schema.DEVICE_STATUS)
    return 0 if status.fields["up"] is True else EXIT_NO_ANSWER


def add_probe_parser(subparsers: Any) -> None:
    """Register `serial` on the subparsers of the `probe` command (`edge probe serial ...`)."""
    parser = subparsers.add_parser("serial", help="read one serial sensor, or scan a Modbus bus")
    parser.add_argument("port", help="serial device, e.g. /dev/ttyUSB0 or a /dev/serial/by-id/ link")
    parser.add_argument("--driver", help="modbus-rtu, nmea, radar or line (required unless --scan)")
    parser.add_argument("--scan", action="store_true", help="list the Modbus addresses that answer")
    parser.add_argument("--scan-range", default="1-247", help="addresses to --scan (default 1-247)")
    parser.add_argument("--address", type=int, help="Modbus slave or radar address")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="driver option")
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument("--timeout-s", type=float, default=0.5, help="wait for each answer (default 0.5)")
    parser.add_argument("--duration-s", type=float, default=3.0, help="the measuring window (default 3)")
    parser.add_argument(
        "--interval-s", type=float, default=1.0, help="between polls within the window (default 1)"
    )
    parser.add_argument("--format", choices=["json", "lp", "table"], default="table")
    parser.set_defaults(func=cmd_probe_serial)
