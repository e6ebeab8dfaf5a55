"""Frozen-picture evidence from H.264 over RTP (RFC 6184) without decoding a picture or keeping one.

Why sizes and not hashes: an H.264 encoder writes new bytes for an unchanged picture (frame numbers
and picture order counts in every slice header), so hashing pictures, as for Motion JPEG, never
sees a freeze. What an encoder does with an unchanged picture is predictable instead: every
macroblock of a P or B picture is *skipped* (no motion, no residual), and a slice of skipped
macroblocks costs its header plus a few bits for the whole run (CAVLC: one `mb_skip_run`; CABAC: a
highly probable skip flag per macroblock, well under 0.1 bit each). Any change the encoder keeps —
a car, a swaying branch, the sensor noise of a dark scene — costs tens of bits for each macroblock
it touches. So a non-IDR access unit is *unchanged* when its coded size is at most
`SLICE_HEADER_ALLOWANCE_BYTES` per slice plus `max_bits_per_mb` per macroblock of the picture
(the size in macroblocks comes from the sequence parameter set, in the SDP's
`sprop-parameter-sets` or in the stream). The default 0.25 bit per macroblock lets through an
all-skip picture at any resolution and, at 1080p, about a dozen coded macroblocks at most.

IDR pictures re-encode the whole picture whatever happened, so they are no evidence either way;
access units cut by the start or end of a pull are not judged. A rate-starved encoder sometimes
skips a whole picture of a live scene; that is why the collector calls a picture frozen only when
*no* access unit changed for `frozen_after_s` (picture.py). Limits: a scene that is truly still
and noiseless (an empty, brightly lit road with an encoder that filters noise) looks frozen after
`frozen_after_s`; an intra-only stream (IDR pictures only) gives no verdict; H.265 is not judged.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

SLICE_HEADER_ALLOWANCE_BYTES = 16  # NAL header + a P slice header with reference list and marking
NAL_SLICE, NAL_IDR, NAL_SPS = 1, 5, 7
STAP_A, FU_A = 24, 28
# profile_idc values whose SPS carries chroma format, bit depths and scaling matrices (H.264 §7.3.2.1.1)
HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
MAX_LEADING_ZERO_BITS = 31
MAX_MACROBLOCKS = 139_264  # MaxFS of level 6.2, the largest picture H.264 allows (Table A-1)


class BitReader:
    """MSB-first bits of an RBSP; reading past the end raises IndexError."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            byte = self.data[self.pos >> 3]
            value = (value << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def ue(self) -> int:
        """Exp-Golomb unsigned (H.264 §9.1)."""
        zeros = 0
        while self.bits(1) == 0:
            zeros += 1
            if zeros > MAX_LEADING_ZERO_BITS:
                raise ValueError("Exp-Golomb code too long")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code % 2 else -(code // 2)


def _skip_scaling_list(reader: BitReader, size: int) -> None:
    last, following = 8, 8
    for _ in range(size):
        if following:
            following = (last + reader.se() + 256) % 256
        last = following or last


def macroblocks(sps: bytes) -> int | None:
    """Macroblocks per picture from a sequence parameter set NAL unit (H.264 §7.3.2.1.1); None
    when it is not one, is cut short or names a picture larger than H.264 allows."""
    if not sps or sps[0] & 0x1F != NAL_SPS:
        return None
    reader = BitReader(sps[1:].replace(b"\x00\x00\x03", b"\x00\x00"))  # emulation prevention
    try:
        profile = reader.bits(8)
        reader.bits(16)  # constraint flags, level_idc
        reader.ue()  # seq_parameter_set_id
        if profile in HIGH_PROFILES:
            chroma_format = reader.ue()
            if chroma_format == 3:
                reader.bits(1)  # separate_colour_plane_flag
            reader.ue(), reader.ue(), reader.bits(1)  # bit depths, qpprime_y_zero_transform_bypass
            if reader.bits(1):  # seq_scaling_matrix_present_flag
                for index in range(12 if chroma_format == 3 else 8):
                    if reader.bits(1):
                        _skip_scaling_list(reader, 16 if index < 6 else 64)
        reader.ue()  # log2_max_frame_num_minus4
        order_type = reader.ue()
        if order_type == 0:
            reader.ue()
        elif order_type == 1:
            reader.bits(1), reader.se(), reader.se()
            for _ in range(reader.ue()):
                reader.se()
        reader.ue(), reader.bits(1)  # max_num_ref_frames, gaps_in_frame_num_allowed
        width_mbs, height_units = reader.ue() + 1, reader.ue() + 1
        frame_mbs_only = reader.bits(1)
    except (IndexError, ValueError):
        return None
    total = width_mbs * height_units * (2 - frame_mbs_only)
    return total if total <= MAX_MACROBLOCKS else None


def parameter_sets(fmtp: str) -> list[bytes]:
    """The NAL units of an SDP `sprop-parameter-sets=<base64>,<base64>` (RFC 6184 §8.1)."""
    for part in fmtp.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "sprop-parameter-sets":
            try:
                return [base64.b64decode(item, validate=True) for item in value.split(",") if item]
            except (binascii.Error, ValueError):
                return []
    return []


@dataclass(slots=True)
class AccessUnit:
    """One picture's slices (one RTP timestamp): coded bytes, slice count, IDR or not."""

    coded_bytes: int = 0
    slices: int = 0
    idr: bool = False
    partial: bool = False  # a fragment of it came without its start
    complete: bool = False  # its last packet (RTP marker) was seen


@dataclass(slots=True)
class H264Units:
    """The access units of one pull, and the last sequence parameter set sent in the stream."""

    units: list[AccessUnit] = field(default_factory=list)
    sps: bytes | None = None
    _ts: int | None = None
    _in_fragment: bool = False

    def add(self, payload: bytes, ts: int, marker: bool) -> None:
        if not payload:
            return
        if ts != self._ts or not self.units:
            self._ts, self._in_fragment = ts, False
            self.units.append(AccessUnit())
        unit = self.units[-1]
        kind = payload[0] & 0x1F
        if kind == STAP_A:
            offset = 1
            while offset + 2 <= len(payload):
                size = int.from_bytes(payload[offset : offset + 2], "big")
                self._nal(unit, payload[offset + 2 : offset + 2 + size])
                offset += 2 + size
        elif kind == FU_A and len(payload) > 2:
            start, inner = payload[1] & 0x80, payload[1] & 0x1F
            if start:
                self._in_fragment = True
                self._count(unit, inner, 1)
            elif not self._in_fragment:
                unit.partial = True
            if inner in (NAL_SLICE, NAL_IDR):
                unit.coded_bytes += len(payload) - 2
            if payload[1] & 0x40:  # end of the fragmented NAL unit
                self._in_fragment = False
        elif 1 <= kind <= 23:
            self._nal(unit, payload)
        unit.complete = marker

    def _nal(self, unit: AccessUnit, nal: bytes) -> None:
        if not nal:
            return
        kind = nal[0] & 0x1F
        if kind == NAL_SPS:
            self.sps = nal
        self._count(unit, kind, len(nal))

    @staticmethod
    def _count(unit: AccessUnit, kind: int, size: int) -> None:
        if kind in (NAL_SLICE, NAL_IDR):
            unit.slices += 1
            unit.coded_bytes += size
            unit.idr = unit.idr or kind == NAL_IDR


class H264Judge:
    """Whether a pull's pictures changed, by the size of their non-IDR access units (see above);
    remembers the picture size in macroblocks from one check to the next."""

    def __init__(self, max_bits_per_mb: float) -> None:
        self.max_bits_per_mb = max_bits_per_mb
        self.macroblocks: int | None = None

    def learn(self, sps: bytes | None) -> None:
        found = macroblocks(sps) if sps else None
        if found:
            self.macroblocks = found

    def unchanged(self, unit: AccessUnit) -> bool | None:
        """True: a picture of skipped macroblocks; None: no evidence (IDR, cut, size unknown)."""
        if self.macroblocks is None or unit.idr or unit.partial or not unit.complete or not unit.slices:
            return None
        limit_bytes = unit.slices * SLICE_HEADER_ALLOWANCE_BYTES + self.max_bits_per_mb * self.macroblocks / 8
        return unit.coded_bytes <= limit_bytes

    def changed(self, found: H264Units) -> bool | None:
        """True when any judged access unit changed, False when all were unchanged, None when none
        could be judged."""
        self.learn(found.sps)
        verdicts = [verdict for unit in found.units if (verdict := self.unchanged(unit)) is not None]
        return (not all(verdicts)) if verdicts else None
