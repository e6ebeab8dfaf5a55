"""A real RTSP server for tests and the demo: GStreamer's gst-rtsp-server serving a live test pattern.

Run with the system python3 (Debian's python3-gst-1.0 and gir1.2-gst-rtsp-server-1.0; they are not
installable into the venv):

    /usr/bin/python3 dev/src/edge_gateway_dev/sim/camera/rtsp_server.py --port 8554 --fps 25 [--user U
    --password-file F]

It serves `rtsp://127.0.0.1:PORT/cam` as Motion JPEG over RTP (a moving ball, so every picture
differs), or with `--encoding h264` as H.264 (RFC 6184), and prints `ready PORT` once it listens;
`--noise-pct P` blends P % of snow over the picture, a still scene with sensor noise once frozen.
SIGUSR1 freezes the picture (a solid colour: frames keep coming, the picture no longer changes),
SIGUSR2 moves it again, SIGTERM stops it.
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


def launch_line(fps: int, width: int, height: int, encoding: str = "jpeg", noise_pct: float = 0) -> str:
    """The pipeline of one mount: the switchable source `src`, with `noise_pct` % of snow blended
    over it (sensor noise: the picture keeps changing when `src` is still), encoded as Motion JPEG or
    H.264 (openh264enc, Debian's gstreamer1.0-plugins-bad). Two IDR pictures a second: the SDP's
    `sprop-parameter-sets` is sometimes missing when a client races the first picture, and a test's
    short pulls must still meet the parameter sets in the stream, whatever their phase."""
    caps = f"video/x-raw,format=I420,width={width},height={height},framerate={fps}/1"
    source = f"videotestsrc name=src is-live=true pattern=ball ! {caps}"
    if encoding == "h264":
        encode = f"openh264enc gop-size={max(fps // 2, 1)} ! rtph264pay name=pay0 pt=96 config-interval=-1"
    else:
        encode = "jpegenc quality=50 ! rtpjpegpay name=pay0 pt=26"
    if not noise_pct:
        return f"( {source} ! {encode} )"
    snow = f"videotestsrc is-live=true pattern=snow ! {caps}"
    mix = f"compositor name=mix sink_1::alpha={noise_pct / 100:g} ! {caps}"
    return f"( {mix} ! {encode} {source} ! mix. {snow} ! mix. )"


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
        self.encoding = args.encoding
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
            factory.set_launch(launch_line(fps, args.width, args.height, args.encoding, args.noise_pct))
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
        if self.encoding == "h264":
            media.connect("prepared", self._keep_running)

    @staticmethod
    def _keep_running(media: Any) -> None:
        """One more prepare of the shared media, never undone: its encoder keeps running between
        clients like a camera's. H.264 rate control has a start-up transient (a few larger pictures
        of an unchanged scene) that a fresh encoder per client would show at every check."""
        media.disconnect_by_func(Camera._keep_running)
        media.prepare(None)

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
    parser.add_argument("--encoding", choices=["jpeg", "h264"], default="jpeg")
    parser.add_argument("--noise-pct", type=float, default=0, help="snow blended over the picture, %%")
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
