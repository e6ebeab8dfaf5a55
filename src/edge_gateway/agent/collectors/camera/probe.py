"""`edge probe camera RTSP_URL`: check one camera once, as the agent would, for the technician on site.

Prints the `camera` reading and the camera's `device_status` as a table, a JSON array or line
protocol; `--onvif HOST:PORT` adds the clock drift and device information, `--snapshot-url` the
snapshot check (the same credentials). Exit status: 0 when the stream delivered frames, 1 when it
did not, 2 for bad options.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

from edge_gateway.agent.collectors.camera.collector import CameraCollector
from edge_gateway.agent.collectors.camera.config import CameraDevice
from edge_gateway.agent.collectors.serial.probe import render
from edge_gateway.agent.scheduler import Accumulator, SourceHealth
from edge_gateway.core import schema
from edge_gateway.core.config import ConfigError
from edge_gateway.core.model import Reading

EXIT_NO_STREAM = 1
EXIT_BAD_USAGE = 2


async def probe(device: CameraDevice) -> list[Reading]:
    acc = Accumulator(SourceHealth())
    await CameraCollector(device, "probe", 0).collect(acc)
    return acc.readings


def cmd_probe_camera(args: argparse.Namespace) -> int:
    from edge_gateway.core.validation import validate

    settings: dict[str, Any] = {"name": "probe", "rtsp_url": args.rtsp_url, "user": args.user}
    settings |= {"pull_s": args.pull_s, "timeout_s": args.timeout_s, "interval_s": 3600}
    if args.password_file:
        settings["password_file"] = args.password_file
    if args.snapshot_url:
        settings["snapshot_url"] = args.snapshot_url
    if args.onvif:
        settings["onvif"] = args.onvif
    try:
        device = validate(CameraDevice, settings)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"probe camera: {problem}", file=sys.stderr)
        return EXIT_BAD_USAGE
    logging.getLogger("edge_gateway.agent.scheduler").setLevel(logging.ERROR)  # the outcome is printed below
    readings = asyncio.run(probe(device))
    print(render(readings, args.format))
    status = next(r for r in readings if r.measurement == schema.DEVICE_STATUS)
    return 0 if status.fields["up"] is True else EXIT_NO_STREAM


def add_probe_parser(subparsers: Any) -> None:
    """Register `camera` on the subparsers of the `probe` command (`edge probe camera ...`)."""
    parser = subparsers.add_parser("camera", help="check one camera's stream once")
    parser.add_argument("rtsp_url", help="rtsp://host[:port]/path, without credentials")
    parser.add_argument("--user", default="", help="RTSP user (digest or basic authentication)")
    parser.add_argument("--password-file", help="file holding the password (never on the command line)")
    parser.add_argument("--snapshot-url", help="also check the HTTP snapshot (size, age)")
    parser.add_argument(
        "--onvif", metavar="HOST:PORT", help="also read the ONVIF clock and device information"
    )
    parser.add_argument("--pull-s", type=float, default=2.0, help="seconds of stream to read (default 2)")
    parser.add_argument("--timeout-s", type=float, default=5.0, help="connect and handshake (default 5)")
    parser.add_argument("--format", choices=["json", "lp", "table"], default="table")
    parser.set_defaults(func=cmd_probe_camera)
