"""The cameras of `edge sim fleet --cameras N`: one real RTSP server process (gst-rtsp-server, one
mount per camera) and one ONVIF/snapshot simulator per camera, on loopback.

Cameras are spread over the intersections (`cbn-int-03-cam-2` is the second camera at intersection
3). Faults by name, as for the other devices: `frozen` (the stream's and the snapshot's picture stop
changing), `no_reply` (a dead camera: nothing listens on its RTSP port, its web services never
answer), `auth_fail` (the agent config carries a password the camera refuses), `slow` (5 fps and
slow web answers), `clock_skew=S` (its ONVIF clock is S seconds off).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from edge_gateway_dev import servers
from edge_gateway_dev.sim.camera import harness
from edge_gateway_dev.sim.camera.onvif_sim import CameraSim, parse_faults, serve_cameras
from edge_gateway_dev.sim.serial import IntersectionSpec

USER = "viewer"
# Cameras stand on the intersection's corners: about 20 m apart on the NOC map, not on top of each other.
SPACING_DEG = 0.0002


@dataclass
class CameraSpec:
    name: str
    site: str
    mount: int
    password: str
    faults: dict[str, float] = field(default_factory=dict)
    position: tuple[float, float] | None = None  # lat, lon in degrees; None: no intersection to stand at


@dataclass(frozen=True)
class CameraHandle:
    spec: CameraSpec
    rtsp_url: str
    web_port: int


def make_camera_specs(count: int, crossings: Sequence[IntersectionSpec], seed: int) -> list[CameraSpec]:
    """`count` cameras over the crossings (at least one), the same for the same seed; each at its
    intersection's site and position, so the NOC map and the intersections board show it there."""
    password = hashlib.sha256(f"camera-{seed}".encode()).hexdigest()[:16]
    specs = []
    for index in range(count):
        crossing, number = index % max(len(crossings), 1), index // max(len(crossings), 1) + 1
        name = f"cbn-int-{crossing + 1:02d}-cam-{number}"
        spec = CameraSpec(name, f"Intersection {crossing + 1:02d}", index + 1, password)
        if crossings:
            at = crossings[crossing]
            spec.site = at.site
            spec.position = (round(at.lat_deg + number * SPACING_DEG, 6), round(at.lon_deg, 6))
        specs.append(spec)
    return specs


def set_faults(spec: CameraSpec, text: str) -> None:
    spec.faults = parse_faults(text)


@contextlib.asynccontextmanager
async def run_cameras(specs: list[CameraSpec], workdir: Path) -> AsyncIterator[list[CameraHandle]]:
    """Serve the cameras for the block; nothing is started when there are none."""
    if not specs:
        yield []
        return
    frozen = ",".join(str(spec.mount) for spec in specs if "frozen" in spec.faults)
    slow = ",".join(str(spec.mount) for spec in specs if "slow" in spec.faults)
    extra = ("--mounts", str(len(specs)), "--frozen-mounts", frozen, "--slow-mounts", slow)
    sims = [CameraSim(spec.name, USER, spec.password, dict(spec.faults)) for spec in specs]
    with harness.rtsp_camera(workdir, user=USER, password=specs[0].password, extra_args=extra) as rtsp:
        async with serve_cameras(sims):
            dead_port = servers.free_port()  # nothing listens there: a camera that is gone
            handles = []
            for spec, sim in zip(specs, sims, strict=True):
                port = dead_port if "no_reply" in spec.faults else rtsp.port
                url = f"rtsp://{rtsp.host}:{port}{harness.PATH}-{spec.mount}"
                handles.append(CameraHandle(spec, url, sim.port))
            yield handles


def camera_device(handle: CameraHandle, interval_s: float) -> dict[str, object]:
    """The `[[camera.devices]]` table of one camera (a wrong password for `auth_fail`)."""
    spec = handle.spec
    password = "not-the-password" if "auth_fail" in spec.faults else spec.password
    return {
        "name": spec.name,
        "rtsp_url": handle.rtsp_url,
        "user": USER,
        "password": password,
        "onvif": f"127.0.0.1:{handle.web_port}",
        "snapshot_url": f"http://127.0.0.1:{handle.web_port}/snapshot.jpg",
        "site": spec.site,
        "lat": spec.position[0] if spec.position else None,
        "lon": spec.position[1] if spec.position else None,
        "interval_s": interval_s,
        "pull_s": round(min(2.0, interval_s / 3), 2),  # the pull and handshakes fit in the deadline
        "frozen_after_s": interval_s,
    }
