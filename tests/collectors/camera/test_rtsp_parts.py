"""The RTSP client's pure parts: digest answer, SDP, frame counting by RTP timestamp, frozen verdicts."""

from __future__ import annotations

import pytest

from edge_gateway.agent.collectors.camera import rtsp
from edge_gateway.agent.collectors.camera.config import CameraDevice
from edge_gateway.agent.collectors.camera.picture import PictureWatch
from edge_gateway.agent.collectors.camera.rtsp import StreamStats, authorization, clean_url, video_track
from edge_gateway.core.config import ConfigError
from edge_gateway.core.validation import validate


def test_digest_answer_matches_rfc_2617_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("secrets.token_hex", lambda _n: "0a4f113b")
    challenge = (
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    header = authorization(challenge, "Mufasa", "Circle Of Life", "GET", "/dir/index.html")
    assert 'response="6629fae49393a05397450978507c4ef1"' in header
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header


def test_basic_answer_when_asked_for_basic() -> None:
    assert authorization('Basic realm="cam"', "a", "b", "DESCRIBE", "rtsp://x/") == "Basic YTpi"


def test_video_track_of_a_description() -> None:
    sdp = (
        "v=0\r\nm=audio 0 RTP/AVP 0\r\na=control:track0\r\n"
        "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:stream=1\r\n"
    )
    track = video_track(sdp, "rtsp://10.0.0.5/live")
    assert track == rtsp.Track("rtsp://10.0.0.5/live/stream=1", 96, "H264", 90_000)
    jpeg = video_track("m=video 0 RTP/AVP 26\r\na=control:*\r\n", "rtsp://h/cam")
    assert (jpeg.encoding, jpeg.control_url) == ("JPEG", "rtsp://h/cam")
    with pytest.raises(rtsp.RtspError):
        video_track("m=audio 0 RTP/AVP 0\r\n", "rtsp://h/")


def packet(ts: int, marker: bool, payload: bytes, seq: int = 0) -> bytes:
    return (
        bytes([0x80, (0x80 if marker else 0) | 26])
        + seq.to_bytes(2, "big")
        + ts.to_bytes(4, "big")
        + b"\0" * 4
        + payload
    )


def test_frames_counted_by_timestamp_across_a_wrap() -> None:
    stats = StreamStats(90_000)
    start = 2**32 - 3600 * 2  # the RTP clock wraps during the pull
    for frame in range(26):
        ts = (start + frame * 3600) % 2**32
        stats.add(packet(ts, False, b"a" * 100), hash_pictures=True)
        stats.add(packet(ts, True, bytes([frame % 2]) * 100), hash_pictures=True)
    assert stats.frames == 26
    assert stats.fps == pytest.approx(25.0)
    assert stats.bitrate_kbps == pytest.approx(200 * 8 * 25 / 1000)
    assert len(stats.picture_hashes) == 26 and len(set(stats.picture_hashes)) == 2


def test_garbage_packets_are_ignored() -> None:
    stats = StreamStats(90_000)
    stats.add(b"\x00" * 5, hash_pictures=True)
    stats.add(b"\x40" + b"\0" * 20, hash_pictures=True)  # RTP version 1
    assert stats.frames == 0 and stats.fps is None and stats.bitrate_kbps is None


def test_picture_watch_says_frozen_only_after_frozen_after_s() -> None:
    watch = PictureWatch(frozen_after_s=10)
    assert watch.update([], 0.0) is None
    assert watch.update([b"a", b"b"], 0.0) is False
    assert watch.update([b"b", b"b"], 5.0) is False  # unchanged for 5 s only
    assert watch.update([b"b"], 10.0) is True
    assert watch.update([b"b", b"c"], 11.0) is False


def test_credentials_stay_out_of_urls() -> None:
    assert clean_url("rtsp://u:p@cam:554/s") == "rtsp://cam:554/s"
    with pytest.raises(ConfigError, match="password_file"):
        validate(CameraDevice, {"name": "c", "rtsp_url": "rtsp://u:p@cam/s"})
