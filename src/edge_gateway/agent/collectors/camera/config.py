"""Configuration of the camera health collector: one table per camera.

```toml
[camera]
down_backoff_max_s = 300

[[camera.devices]]
name = "cbn-int-03-cam-2"
rtsp_url = "rtsp://10.20.3.21:554/stream1"   # no credentials in the URL: user + password_file
user = "viewer"
password_file = "/etc/edge/cam-viewer.pass"
onvif = "10.20.3.21:80"                      # optional: ONVIF device service, host:port
snapshot_url = "http://10.20.3.21/snap.jpg"  # optional: HTTP JPEG snapshot
interval_s = 60
pull_s = 2.0                                 # seconds of stream read per check
frozen_after_s = 60                          # picture unchanged this long: frozen
h264_unchanged_max_bits_per_mb = 0.25        # H.264: a picture this small is all skipped macroblocks
```

Defaults live here and nowhere else; see docs/cameras.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from annotated_types import Ge, Gt, Le, MinLen

from edge_gateway.core.config import NAME_PATTERN, Check, Doc, DownBackoffMaxS, Pattern, Secret, Section
from edge_gateway.core.config_checks import Checks, duplicates, host_port, url_with


def _no_user_info(url: str) -> str:
    if url and "@" in urlsplit(url).netloc:
        raise ValueError("put credentials in user and password_file, not in the URL")
    return url


def _rtsp_url(url: str) -> str:
    return _no_user_info(url_with(("rtsp",))(url))


def _snapshot_url(url: str | None) -> str | None:
    return url and _no_user_info(url_with(("http", "https"))(url))


def _onvif(value: str | None) -> str | None:
    return value and host_port(value)


@dataclass(frozen=True, kw_only=True)
class CameraDevice(Section):
    """One camera: its stream, and optionally its ONVIF service and snapshot URL.

    `pull_s` is how long the stream is read at each check (frames and bitrate are measured over it);
    it must fit in the deadline (`deadline_s`, default 0.9 x interval_s) with the handshakes.
    """

    name: Annotated[str, Pattern(NAME_PATTERN)]
    rtsp_url: Annotated[str, Check(_rtsp_url)]
    user: str = ""
    password: Secret | None = None
    password_file: Path | None = None
    onvif: Annotated[str | None, Check(_onvif), Doc("ONVIF device service host:port")] = None
    snapshot_url: Annotated[str | None, Check(_snapshot_url)] = None
    site: Annotated[str | None, MinLen(1)] = None
    lat: Annotated[float | None, Ge(-90), Le(90), Doc("position on the NOC map, degrees")] = None
    lon: Annotated[float | None, Ge(-180), Le(180)] = None
    interval_s: Annotated[float, Ge(1), Le(86_400)] = 60.0
    deadline_s: Annotated[float | None, Gt(0), Le(86_400), Doc("None: 0.9 x interval_s")] = None
    timeout_s: Annotated[float, Gt(0), Le(60), Doc("each connect and handshake")] = 5.0
    pull_s: Annotated[float, Ge(0.2), Le(60)] = 2.0
    frozen_after_s: Annotated[float, Ge(0), Le(86_400)] = 60.0
    h264_unchanged_max_bits_per_mb: Annotated[
        float, Gt(0), Le(16), Doc("an H.264 P/B picture this small per macroblock is all skipped")
    ] = 0.25
    max_clock_drift_s: Annotated[float, Gt(0), Doc("documented alert threshold, for the probe")] = 2.0

    checks = Checks(secrets=("password",))

    @property
    def secret(self) -> str:
        return self.password.get_secret_value() if self.password else ""


def _unique_names(section: CameraSection) -> list[str]:
    return duplicates("camera names", [device.name for device in section.devices])


@dataclass(frozen=True, kw_only=True)
class CameraSection(Section):
    down_backoff_max_s: DownBackoffMaxS = 300.0
    devices: list[CameraDevice] = field(default_factory=list)

    checks = Checks(check=_unique_names, reads=("devices",))
