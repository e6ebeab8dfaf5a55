"""A real RTSP server for tests and the demo: GStreamer's gst-rtsp-server serving a live test pattern.

Run with the system python3 (Debian's python3-gst-1.0 and gir1.2-gst-rtsp-server-1.0; they are not
installable into the venv):

    /usr/bin/python3 dev/src/edge_gateway_dev/sim/camera/rtsp_server.py --port 8554 --fps 25 [--user U
    --password-file F]

It serves `rtsp://127.0.0.1:PORT/cam` as Motion JPEG over RTP (a moving ball, so every picture
differs) and prints `ready PORT` once it listens. SIGUSR1 freezes the picture (a solid colour:
frames keep coming, the picture no longer changes), SIGUSR2 moves it again, SIGTERM stops it.
dev/src/edge_gateway_dev/sim/camera/harness.py starts it for the tests.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

PATH = "/cam"


def launch_line(fps: int, width: int, height: int) -> str:
    return (
        "( videotestsrc name=src is-live=true pattern=ball ! video/x-raw,format=I420,"
        f"width={width},height={height},framerate={fps}/1 ! jpegenc quality=50 ! rtpjpegpay name=pay0 pt=26 )"
    )


def mount_numbers(text: str) -> set[int]:
    return {int(part) for part in text.split(",") if part.strip()}


class Camera:
    """The server and its shared media, one per mount, whose test sources the signals switch.

    One mount `/cam`, or with `--mounts N` the mounts `/cam-1` ... `/cam-N` (a fleet of cameras in
    one process); `--frozen-mounts` start frozen, `--slow-mounts` send `--slow-fps`.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.sources: list[tuple[Any, bool]] = []  # (test source, frozen from the start)
        self.frozen = False
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address("127.0.0.1")
        self.server.set_service(str(args.port))
        if args.user:
            auth = GstRtspServer.RTSPAuth()
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            token = GstRtspServer.RTSPToken()
            token.set_string("media.factory.role", "viewer")
            auth.add_digest(args.user, args.password, token)
            self.server.set_auth(auth)
        frozen, slow = mount_numbers(args.frozen_mounts), mount_numbers(args.slow_mounts)
        paths = [(PATH, 0)] if not args.mounts else [(f"{PATH}-{n}", n) for n in range(1, args.mounts + 1)]
        for path, number in paths:
            factory = GstRtspServer.RTSPMediaFactory()
            fps = args.slow_fps if number in slow else args.fps
            factory.set_launch(launch_line(fps, args.width, args.height))
            factory.set_shared(True)
            factory.connect("media-configure", self._configured, number in frozen)
            if args.user:
                factory.add_role_from_structure(
                    Gst.Structure.new_from_string(
                        "viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
                    )
                )
            self.server.get_mount_points().add_factory(path, factory)

    def _configured(self, _factory: Any, media: Any, stuck: bool) -> None:
        source = media.get_element().get_by_name("src")
        self.sources.append((source, stuck))
        self._apply(source, stuck)

    def _apply(self, source: Any, stuck: bool) -> None:
        source.set_property("pattern", "solid-color" if self.frozen or stuck else "ball")

    def command(self, word: str) -> bool:
        self.frozen = word == "freeze"
        for source, stuck in self.sources:
            self._apply(source, stuck)
        print(f"ok {word}", flush=True)
        return True  # keep the signal handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--user", default="")
    parser.add_argument("--password-file", default="")
    parser.add_argument("--mounts", type=int, default=0, help="0: one mount /cam; N: /cam-1 ... /cam-N")
    parser.add_argument("--frozen-mounts", default="", help="mount numbers frozen from the start, 2,5")
    parser.add_argument("--slow-mounts", default="", help="mount numbers sending --slow-fps")
    parser.add_argument("--slow-fps", type=int, default=5)
    args = parser.parse_args()
    args.password = ""
    if args.password_file:
        args.password = Path(args.password_file).read_text(encoding="utf-8").strip()
    Gst.init(None)
    camera = Camera(args)
    loop = GLib.MainLoop()
    if camera.server.attach(None) == 0:
        print(f"cannot listen on port {args.port}", file=sys.stderr)
        return 1
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, camera.command, "freeze")
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR2, camera.command, "unfreeze")
    print(f"ready {camera.server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
