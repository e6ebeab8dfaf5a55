"""H.264 over RTP without decoding: picture size from the SPS, access units from RFC 6184 packets
(single NAL, STAP-A, FU-A), and the unchanged/changed verdict by bits per macroblock."""

from __future__ import annotations

import base64
import random

from edge_gateway.agent.collectors.camera import h264
from edge_gateway.agent.collectors.camera.h264 import H264Judge, H264Units
from edge_gateway.agent.collectors.camera.picture import PictureWatch
from edge_gateway.agent.collectors.camera.rtsp import StreamStats, video_track

# Baseline SPS of gst-rtsp-server's openh264enc at 320x240 (20 x 15 macroblocks), from its SDP
SPS_320X240 = base64.b64decode("Z0LADYyNQKD5APCIRqA=")
# High profile SPS of x264 at 1920x1080 (120 x 68 macroblocks), with an emulation prevention byte
SPS_1080P = bytes.fromhex("67640028acd940780227e5c044000003000400000300c83c60c658")
IDR, P_SLICE = 0x65, 0x41  # NAL headers: nal_ref_idc 3 / 2, types 5 / 1


def test_macroblocks_of_baseline_and_high_profile_parameter_sets() -> None:
    assert h264.macroblocks(SPS_320X240) == 300
    assert h264.macroblocks(SPS_1080P) == 8160
    assert h264.macroblocks(SPS_1080P[:6]) is None  # cut short
    assert h264.macroblocks(b"\x68\xce\x3c\x80") is None  # a PPS, not an SPS
    assert h264.macroblocks(b"\x67" + b"\x00" * 12) is None  # an Exp-Golomb code without end


def test_parameter_sets_from_the_sdp_format_parameters() -> None:
    sdp = (
        "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
        "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LADYyNQKD5APCIRqA=,aM48gA==\r\n"
    )
    track = video_track(sdp, "rtsp://h/cam")
    assert h264.parameter_sets(track.fmtp) == [SPS_320X240, base64.b64decode("aM48gA==")]
    assert h264.parameter_sets("sprop-parameter-sets=not*base64") == []
    assert h264.parameter_sets("packetization-mode=1") == []


def fu_a(nal: bytes, pieces: int) -> list[bytes]:
    """A NAL unit cut into FU-A fragments (RFC 6184 §5.8)."""
    body, step = nal[1:], -(-(len(nal) - 1) // pieces)
    chunks = [body[i : i + step] for i in range(0, len(body), step)]
    out = []
    for index, chunk in enumerate(chunks):
        flags = (0x80 if index == 0 else 0) | (0x40 if index == len(chunks) - 1 else 0)
        out.append(bytes([(nal[0] & 0xE0) | 28, flags | (nal[0] & 0x1F)]) + chunk)
    return out


def stap_a(*nals: bytes) -> bytes:
    return b"\x18" + b"".join(len(nal).to_bytes(2, "big") + nal for nal in nals)


def test_access_units_from_single_stap_a_and_fu_a_packets() -> None:
    units = H264Units()
    pps = base64.b64decode("aM48gA==")
    idr = bytes([IDR]) + b"\x88" * 2999
    units.add(stap_a(SPS_320X240, pps), 0, marker=False)
    for index, piece in enumerate(pieces := fu_a(idr, 3)):
        units.add(piece, 0, marker=index == len(pieces) - 1)
    units.add(bytes([P_SLICE]) + b"\x9a" * 10, 3600, marker=True)  # one skipped picture
    units.add(bytes([P_SLICE]) + b"\x9a" * 200, 7200, marker=False)  # two slices
    units.add(bytes([P_SLICE]) + b"\x9a" * 300, 7200, marker=True)
    first, second, third = units.units
    assert (first.idr, first.slices, first.coded_bytes, first.complete) == (True, 1, 3000, True)
    assert (second.idr, second.slices, second.coded_bytes) == (False, 1, 11)
    assert (third.slices, third.coded_bytes) == (2, 502)
    assert units.sps == SPS_320X240


def test_cut_access_units_are_not_judged() -> None:
    units = H264Units()
    *_, tail = fu_a(bytes([P_SLICE]) + b"\x11" * 900, 3)
    units.add(tail, 0, marker=True)  # joined mid-picture: its start is missing
    units.add(bytes([P_SLICE]) + b"\x9a" * 10, 3600, marker=False)  # the pull ended before its marker
    judge = H264Judge(max_bits_per_mb=0.25)
    judge.learn(SPS_320X240)
    assert [judge.unchanged(unit) for unit in units.units] == [None, None]
    assert judge.changed(units) is None


def test_pictures_of_skipped_macroblocks_are_unchanged_at_any_size() -> None:
    judge = H264Judge(max_bits_per_mb=0.25)
    skipped, coded = H264Units(), H264Units()
    for frame in range(5):
        skipped.add(bytes([P_SLICE]) + b"\x9a" * 10, frame * 3600, marker=True)  # 11 bytes, as openh264
    assert judge.changed(skipped) is None  # the picture size is not known yet
    judge.learn(SPS_320X240)
    assert judge.changed(skipped) is False
    coded.add(bytes([P_SLICE]) + b"\x9a" * 10, 0, marker=True)
    coded.add(bytes([P_SLICE]) + b"\x9a" * 88, 3600, marker=True)  # the moving ball: 89 bytes
    assert judge.changed(coded) is True
    judge.learn(SPS_1080P)  # x264 at 1080p: a skipped picture is ~63 bytes, limit 16 + 255
    big = H264Units()
    big.add(bytes([P_SLICE]) + b"\x9a" * 62, 0, marker=True)
    assert judge.changed(big) is False
    big.add(bytes([P_SLICE]) + b"\x9a" * 400, 3600, marker=True)
    assert judge.changed(big) is True


def test_idr_pictures_are_no_evidence() -> None:
    judge = H264Judge(max_bits_per_mb=0.25)
    judge.learn(SPS_320X240)
    units = H264Units()
    units.add(bytes([IDR]) + b"\x9a" * 10, 0, marker=True)
    assert judge.changed(units) is None


def test_frozen_by_sizes_after_frozen_after_s() -> None:
    watch = PictureWatch(frozen_after_s=2)
    assert watch.judge(False, 0.0) is False  # the first check counts as a change
    assert watch.judge(False, 1.0) is False
    assert watch.judge(False, 2.0) is True
    assert watch.judge(True, 3.0) is False


def test_garbage_payloads_never_raise() -> None:
    rng = random.Random(17)
    stats = StreamStats(90_000, h264=H264Units())
    judge = H264Judge(max_bits_per_mb=0.25)
    for seq in range(3000):
        payload = rng.randbytes(rng.randrange(0, 40))
        header = bytes([0x80, 0x80 * rng.randrange(2) | 96]) + seq.to_bytes(2, "big")
        stats.add(header + (seq // 7).to_bytes(4, "big") + b"\0" * 4 + payload, hash_pictures=False)
        judge.learn(payload)
    assert stats.h264 is not None
    judge.changed(stats.h264)
