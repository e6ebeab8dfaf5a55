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

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from edge_gateway.core.config_checks import checked_model, duplicates, host_port, url_with

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _no_user_info(url: str) -> str:
    if url and "@" in urlsplit(url).netloc:
        raise ValueError("put credentials in user and password_file, not in the URL")
    return url


class CameraDevice(_Section):
    """One camera: its stream, and optionally its ONVIF service and snapshot URL.

    `pull_s` is how long the stream is read at each check (frames and bitrate are measured over it);
    it must fit in the deadline (`deadline_s`, default 0.9 x interval_s) with the handshakes.
    """

    name: str = Field(pattern=NAME_PATTERN)
    rtsp_url: str
    user: str = ""
    password: SecretStr | None = None
    password_file: Path | None = None
    onvif: str | None = Field(None, description="ONVIF device service host:port")
    snapshot_url: str | None = None
    site: str | None = Field(None, min_length=1)
    lat: float | None = Field(None, ge=-90, le=90, description="position on the NOC map, degrees")
    lon: float | None = Field(None, ge=-180, le=180)
    interval_s: float = Field(60.0, ge=1, le=86_400)
    deadline_s: float | None = Field(None, gt=0, le=86_400, description="None: 0.9 x interval_s")
    timeout_s: float = Field(5.0, gt=0, le=60, description="each connect and handshake")
    pull_s: float = Field(2.0, ge=0.2, le=60)
    frozen_after_s: float = Field(60.0, ge=0, le=86_400)
    h264_unchanged_max_bits_per_mb: float = Field(
        0.25, gt=0, le=16, description="an H.264 P/B picture this small per macroblock is all skipped"
    )
    max_clock_drift_s: float = Field(2.0, gt=0, description="documented alert threshold, for the probe")

    _checks = checked_model(secrets=("password",))
    _rtsp = field_validator("rtsp_url")(lambda url: _no_user_info(url_with(("rtsp",))(url)))
    _snapshot = field_validator("snapshot_url")(
        lambda url: url and _no_user_info(url_with(("http", "https"))(url))
    )
    _onvif = field_validator("onvif")(lambda value: value and host_port(value))

    @property
    def secret(self) -> str:
        return self.password.get_secret_value() if self.password else ""


class CameraSection(_Section):
    down_backoff_max_s: float = Field(300.0, ge=0, le=86_400)
    devices: list[CameraDevice] = Field(default_factory=list)

    _checks = checked_model(
        check=lambda section: duplicates("camera names", [d.name for d in section.devices])
    )
