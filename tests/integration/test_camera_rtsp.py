"""The camera collector against a real RTSP server (GStreamer's gst-rtsp-server), judged by ffprobe:
Motion JPEG and H.264 (openh264enc), live, frozen, and still but noisy."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import pytest

from edge_gateway.agent.collectors.camera.collector import CameraCollector
from edge_gateway.agent.collectors.camera.config import CameraDevice
from edge_gateway.agent.scheduler import Accumulator, SourceHealth, run_periodic
from edge_gateway.core.model import Reading
from edge_gateway.core.validation import validate
from edge_gateway_dev import servers
from edge_gateway_dev.sim.camera import harness

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(bool(harness.available()), reason=harness.available() or "available"),
]


@pytest.fixture
def camera(tmp_path: Path) -> Iterator[servers.Server]:
    with harness.rtsp_camera(tmp_path / "camera") as server:
        yield server


def device(server: servers.Server, **options: object) -> CameraDevice:
    settings: dict[str, object] = {"name": "cbn-int-01-cam-1", "rtsp_url": harness.url(server)}
    settings |= {"interval_s": 2, "pull_s": 1.0, "frozen_after_s": 1.5}
    return validate(CameraDevice, settings | options)


async def check(collector: CameraCollector) -> tuple[Reading, Reading]:
    acc = Accumulator(SourceHealth())
    await collector.collect(acc)
    by_name = {reading.measurement: reading for reading in acc.readings}
    return by_name["camera"], by_name["device_status"]


def ffprobe_fps(url: str, seconds: float = 2.0) -> float:
    """fps as ffprobe counts it: frames over the span of their presentation times."""
    command = [shutil.which("ffprobe") or "ffprobe", "-v", "error", "-rtsp_transport", "tcp"]
    command += ["-read_intervals", f"%+{seconds}", "-show_entries", "frame=pts_time", "-of", "csv=p=0", url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True).stdout
    times = sorted(float(line.strip(",")) for line in output.split() if line.strip(","))
    assert len(times) > 2, output
    return (len(times) - 1) / (times[-1] - times[0])


H264 = ("--encoding", "h264")


@pytest.mark.parametrize(("fps", "encoding"), [(25, ()), (5, ()), (25, H264)], ids=["25", "5", "h264-25"])
async def test_fps_agrees_with_ffprobe(tmp_path: Path, fps: int, encoding: tuple[str, ...]) -> None:
    with harness.rtsp_camera(tmp_path / "camera", fps=fps, extra_args=encoding) as server:
        camera, status = await check(CameraCollector(device(server), "Kejaksan", 300))
        judged = await asyncio.to_thread(ffprobe_fps, harness.url(server))
    assert status.fields["up"] is True, status.fields
    assert camera.fields["rtsp_ok"] is True and camera.fields["up"] is True
    measured = float(camera.fields["fps"])
    assert abs(measured - judged) <= 0.1 * judged, (measured, judged)
    assert float(camera.fields["bitrate_kbps"]) > 0
    assert camera.fields["frozen"] is False


@contextlib.asynccontextmanager
async def verdicts(collector: CameraCollector) -> AsyncIterator[Callable[[], Awaitable[object]]]:
    """The collector on its own interval grid (the agent's scheduler); yields the next check's
    `frozen` field, awaited."""
    readings: asyncio.Queue[Reading] = asyncio.Queue()

    async def sink(batch: Sequence[Reading]) -> None:
        for reading in batch:
            if reading.measurement == "camera":
                readings.put_nowait(reading)

    async def verdict() -> object:
        return (await asyncio.wait_for(readings.get(), 30)).fields.get("frozen")

    task = asyncio.create_task(run_periodic(collector, sink, SourceHealth()))
    try:
        yield verdict
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.mark.parametrize("encoding", [(), H264], ids=["jpeg", "h264"])
async def test_frozen_picture_detected_within_two_intervals(
    tmp_path: Path, encoding: tuple[str, ...]
) -> None:
    """After the freeze, at most two checks pass before one says frozen (H.264: by the size of its
    pictures of skipped macroblocks), and the first check after the thaw says moving."""
    with harness.rtsp_camera(tmp_path / "camera", extra_args=encoding) as camera:
        collector = CameraCollector(device(camera, interval_s=1, pull_s=0.5, frozen_after_s=1), "K", 300)
        async with verdicts(collector) as verdict:
            assert await verdict() is False
            harness.freeze(camera)
            await verdict()  # the check under way when the freeze happened, if any
            after_freeze = [await verdict() for _ in range(2)]
            assert True in after_freeze, after_freeze
            harness.freeze(camera, frozen=False)
            await verdict()  # the check under way at the thaw
            assert await verdict() is False


async def test_still_but_noisy_h264_scene_is_not_frozen(tmp_path: Path) -> None:
    """The same still picture with sensor noise over it (8 % snow): the encoder codes the noise, so
    the picture is live, for more checks than frozen_after_s spans."""
    with harness.rtsp_camera(tmp_path / "camera", extra_args=(*H264, "--noise-pct", "8")) as camera:
        harness.freeze(camera)
        collector = CameraCollector(device(camera, interval_s=1, pull_s=0.5, frozen_after_s=1), "K", 300)
        async with verdicts(collector) as verdict:
            seen = [await verdict() for _ in range(4)]
    assert seen == [False] * 4, seen


async def test_password_protected_stream(tmp_path: Path) -> None:
    with harness.rtsp_camera(tmp_path / "camera", user="viewer", password="s3cret-cam") as server:
        secret = tmp_path / "cam.pass"
        secret.write_text("s3cret-cam\n")
        good = CameraCollector(device(server, user="viewer", password_file=secret), "K", 300)
        camera, status = await check(good)
        assert camera.fields["rtsp_ok"] is True, status.fields
        wrong = CameraCollector(device(server, user="viewer", password="wrong"), "K", 300)
        camera, status = await check(wrong)
    assert camera.fields["up"] is True and camera.fields["rtsp_ok"] is False
    assert "401" in str(status.fields["error"])
    assert "wrong" not in str(status.fields["error"])


async def test_stopped_camera_is_down_and_backed_off(tmp_path: Path) -> None:
    with harness.rtsp_camera(tmp_path / "camera") as server:
        collector = CameraCollector(device(server), "K", 300)
        camera, _ = await check(collector)
        assert camera.fields["rtsp_ok"] is True
    camera, status = await check(collector)
    assert camera.fields == {"up": False, "rtsp_ok": False}
    assert status.fields["up"] is False and "ConnectionRefused" in str(status.fields["error"])
    await check(collector)
    acc = Accumulator(SourceHealth())
    await collector.collect(acc)
    [backing_off] = acc.readings
    assert backing_off.measurement == "device_status"
    assert "backing off" in str(backing_off.fields["error"])


def test_probe_prints_the_check_as_line_protocol(
    camera: servers.Server, capsys: pytest.CaptureFixture[str]
) -> None:
    from edge_gateway.cli.main import main

    assert main(["probe", "camera", harness.url(camera), "--pull-s", "0.5", "--format", "lp"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("camera,device=probe") and "rtsp_ok=true" in lines[0]
    assert main(["probe", "camera", "rtsp://127.0.0.1:1/cam", "--format", "json"]) == 1
