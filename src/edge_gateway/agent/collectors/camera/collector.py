"""One camera's health check: RTSP reachability, handshake, a short pull of the stream, frozen picture,
and (when configured) ONVIF clock and HTTP snapshot; deadline, backoff while down, status every cycle.

The agent runs one `CameraCollector` per camera in its own task (`camera[cbn-int-03-cam-2]`), so a
dead or slow camera never delays another. The whole check has one deadline (`deadline_s`, default
0.9 x interval_s); a camera that keeps failing is checked every 2nd, 4th, ... cycle up to
`camera.down_backoff_max_s`, and a `device_status` reading is written every cycle, backed-off ones
included. Frames are read, counted and hashed or measured, never kept (see picture.py, h264.py).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp

from edge_gateway.agent.collectors.camera import h264, onvif
from edge_gateway.agent.collectors.camera.config import CameraDevice
from edge_gateway.agent.collectors.camera.h264 import H264Judge, H264Units
from edge_gateway.agent.collectors.camera.picture import PictureWatch
from edge_gateway.agent.collectors.camera.rtsp import RtspError, RtspSession, StreamStats
from edge_gateway.agent.collectors.camera.snapshot import SnapshotError, check_snapshot
from edge_gateway.agent.scheduler import Accumulator
from edge_gateway.core import schema
from edge_gateway.core.backoff import cycles_to_skip
from edge_gateway.core.model import FieldValue, Reading

HASHABLE_ENCODINGS = frozenset({"JPEG"})
# What a broken, hostile or silent camera can raise; anything else is a bug, logged by the scheduler.
STREAM_ERRORS = (
    OSError, RtspError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
)  # fmt: skip


class CameraCheckError(Exception):
    """One check of one camera failed; chained to the socket, RTSP or deadline error underneath."""


def error_text(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "deadline exceeded"
    if isinstance(error, asyncio.IncompleteReadError):
        return "connection closed by the camera"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


@dataclass(slots=True)
class CheckResult:
    """What one check found; absent figures stay None and are left out of the reading."""

    fields: dict[str, FieldValue] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


async def check_stream(
    device: CameraDevice, watch: PictureWatch, judge: H264Judge, result: CheckResult, now_s: float
) -> StreamStats | None:
    """Connect, handshake and pull; fills `up`, `latency_ms`, `rtsp_ok`, `fps`, `bitrate_kbps`,
    `frozen` as far as the camera gets (Motion JPEG by picture hashes, H.264 by access unit sizes).
    Socket and RTSP errors are raised to the caller."""
    started_s = time.monotonic()
    result.fields |= {"up": False, "rtsp_ok": False}
    async with asyncio.timeout(device.timeout_s):
        session = await RtspSession.connect(device.rtsp_url, device.user, device.secret)
    result.fields |= {"up": True, "latency_ms": round((time.monotonic() - started_s) * 1000, 1)}
    try:
        async with asyncio.timeout(device.timeout_s):
            await session.request("OPTIONS", session.url)
            track = await session.describe()
            await session.play(track)
        stats = StreamStats(track.clock_rate)
        hashable = track.encoding in HASHABLE_ENCODINGS
        if track.encoding == "H264":
            stats.h264 = H264Units()
            for nal in h264.parameter_sets(track.fmtp):
                judge.learn(nal)
        try:
            async with asyncio.timeout(device.pull_s):
                await session.pull(stats, hashable)
        except TimeoutError:
            pass  # the normal end of a pull
    finally:
        await session.close()
    if stats.frames == 0:
        raise RtspError(f"no frames in {device.pull_s:g} s")
    result.fields["rtsp_ok"] = True
    result.fields["frames"] = stats.frames
    if stats.fps is not None and stats.bitrate_kbps is not None:
        result.fields |= {"fps": round(stats.fps, 2), "bitrate_kbps": round(stats.bitrate_kbps, 1)}
    frozen: bool | None = None
    if hashable:
        frozen = watch.update(stats.picture_hashes, now_s)
    elif stats.h264 is not None and (changed := judge.changed(stats.h264)) is not None:
        frozen = watch.judge(changed, now_s)
    if frozen is not None:
        result.fields["frozen"] = frozen
    return stats


class CameraCollector:
    def __init__(self, device: CameraDevice, site: str, down_backoff_max_s: float) -> None:
        self.device = device
        self.name = f"camera[{device.name}]"
        self.interval_s = device.interval_s
        self.deadline_s = device.deadline_s or 0.9 * device.interval_s
        self.down_backoff_max_s = down_backoff_max_s
        self.tags = {"device": device.name, "site": device.site or site}
        self.watch = PictureWatch(device.frozen_after_s)
        self.h264 = H264Judge(device.h264_unchanged_max_bits_per_mb)
        self.snapshot_watch = PictureWatch(device.frozen_after_s)
        self.failures = 0
        self.skip_cycles = 0
        self.last_error = ""

    def _status(self, fields: dict[str, FieldValue], time_ns: int) -> Reading:
        if self.device.lat is not None and self.device.lon is not None:
            fields = {**fields, "lat": self.device.lat, "lon": self.device.lon}
        return Reading(schema.DEVICE_STATUS, {**self.tags, "kind": "camera"}, fields, time_ns)

    async def collect(self, acc: Accumulator) -> None:
        time_ns = time.time_ns()
        if self.skip_cycles > 0:
            self.skip_cycles -= 1
            acc.add(self._status({"up": False, "error": f"{self.last_error} (backing off)"}, time_ns))
            return
        result = CheckResult()
        error: BaseException | None = None
        try:
            async with asyncio.timeout(self.deadline_s):
                await self.check(result)
        except STREAM_ERRORS as exc:
            error = exc
        acc.add(Reading(schema.CAMERA, self.tags, result.fields, time_ns))
        status: dict[str, FieldValue] = {"up": bool(result.fields.get("rtsp_ok"))}
        if "latency_ms" in result.fields:
            status["latency_ms"] = result.fields["latency_ms"]
        if error is None:
            self.failures = 0
            status["error"] = "; ".join(result.problems)
            acc.add(self._status(status, time_ns))
            acc.add_success(self.name)
            return
        self.failures += 1
        self.last_error = error_text(error)
        self.skip_cycles = cycles_to_skip(self.failures, self.interval_s, self.down_backoff_max_s)
        status["error"] = "; ".join([self.last_error, *result.problems])
        acc.add(self._status(status, time_ns))
        acc.add_error(self.name, CameraCheckError(f"{self.device.rtsp_url}: {self.last_error}"))

    async def check(self, result: CheckResult) -> None:
        """The stream first; the extras (ONVIF clock, snapshot) add fields and problems, even when the
        stream failed, and never make a camera count as down."""
        stream_error: BaseException | None = None
        try:
            await check_stream(self.device, self.watch, self.h264, result, time.monotonic())
        except STREAM_ERRORS as exc:
            stream_error = exc
        if self.device.onvif or self.device.snapshot_url:
            await self._extras(result)
        if stream_error is not None:
            raise stream_error

    async def _extras(self, result: CheckResult) -> None:
        device = self.device
        auth = (aiohttp.DigestAuthMiddleware(device.user, device.secret),) if device.user else ()
        timeout = aiohttp.ClientTimeout(total=device.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout, middlewares=auth) as http:
            if device.onvif:
                try:
                    drift_s = await onvif.clock_drift_s(http, device.onvif, device.user, device.secret)
                    result.fields |= {"clock_drift_s": drift_s, "clock_error_s": abs(drift_s)}
                    info = await onvif.device_information(http, device.onvif, device.user, device.secret)
                    result.fields |= {key: value for key, value in info.items() if value}
                except (aiohttp.ClientError, TimeoutError, onvif.OnvifError) as exc:
                    result.problems.append(f"onvif: {error_text(exc)}")
            if device.snapshot_url:
                try:
                    fields, frozen = await check_snapshot(
                        http, device.snapshot_url, self.snapshot_watch, time.monotonic()
                    )
                except (aiohttp.ClientError, TimeoutError, SnapshotError) as exc:
                    result.problems.append(f"snapshot: {error_text(exc)}")
                    return
                result.fields |= fields
                if frozen is not None and "frozen" not in result.fields:
                    result.fields["frozen"] = frozen
