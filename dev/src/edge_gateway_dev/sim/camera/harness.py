"""Start the real RTSP test camera (dev/src/edge_gateway_dev/sim/camera/rtsp_server.py, GStreamer's
gst-rtsp-server)
under the project's server harness: loopback, a free port, a temp dir, always stopped.

It runs with the system python3 because Debian's GStreamer bindings (python3-gst-1.0,
gir1.2-gst-rtsp-server-1.0) live there, not in the venv. `freeze`/`unfreeze` switch its picture.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

from edge_gateway_dev import servers

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
PATH = "/cam"


def available() -> str:
    """Why the real RTSP server cannot run here, or "" when it can."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} is missing"
    gir = Path("/usr/lib").glob("*/girepository-1.0/GstRtspServer-1.0.typelib")
    if next(gir, None) is None:
        return "gir1.2-gst-rtsp-server-1.0 is not installed; run `make setup`"
    return ""


@contextlib.contextmanager
def rtsp_camera(
    workdir: Path,
    fps: int = 25,
    user: str = "",
    password: str = "",
    port: int = 0,
    extra_args: tuple[str, ...] = (),
) -> Iterator[servers.Server]:
    """A live camera at `rtsp://127.0.0.1:PORT/cam` (Motion JPEG, moving picture); `extra_args`
    (`--mounts N`, `--frozen-mounts`, `--slow-mounts`) make it a fleet of cameras."""
    port = port or servers.free_port()
    argv = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(port), "--fps", str(fps), *extra_args]
    if user:
        workdir.mkdir(parents=True, exist_ok=True)
        secret = workdir / "camera.pass"
        secret.write_text(password)
        secret.chmod(0o600)
        argv += ["--user", user, "--password-file", str(secret)]
    with servers._run("rtsp-camera", argv, workdir, port, lambda: servers._tcp_ready(port)) as server:
        yield server


def url(server: servers.Server) -> str:
    return f"rtsp://{server.host}:{server.port}{PATH}"


def freeze(server: servers.Server, frozen: bool = True) -> None:
    """The picture stops changing (frames keep coming) or moves again."""
    os.kill(server.process.pid, signal.SIGUSR1 if frozen else signal.SIGUSR2)
