"""Frozen-picture detection from the hashes of whole encoded pictures.

Method: the RTP payload of each complete picture (all packets up to the marker bit) is hashed; a
picture is "unchanged" when its hash equals the previous one. This is sound for Motion JPEG (RTP
payload type 26, RFC 2435) and for JPEG snapshots: a JPEG encoder is deterministic, so the same
picture gives the same bytes, and any change of even a few pixels (a clock overlay, noise, traffic)
changes them. It is NOT sound for H.264/H.265: an encoder produces new bytes for an unchanged
picture (frame numbers and picture order counts in every slice header), so H.264 streams are judged
by the size of their access units instead (h264.py says why that works) and feed `judge`; for
H.265 the `frozen` field comes from the snapshot when one is configured and is otherwise absent.

Limits: a camera whose sensor noise is encoded (night, high gain) never looks frozen by this test
even if the scene is static, which is the right answer; a frozen camera whose firmware re-encodes
the same picture with a changing overlay (timestamp) does not look frozen: configure the overlay
off, or rely on the snapshot's age. Only hashes are kept, never a picture.
"""

from __future__ import annotations

from collections.abc import Sequence


class PictureWatch:
    """When the picture last changed; `update` answers whether it is frozen now."""

    def __init__(self, frozen_after_s: float) -> None:
        self.frozen_after_s = frozen_after_s
        self.last_hash: bytes | None = None
        self.changed_s: float | None = None

    def update(self, hashes: Sequence[bytes], now_s: float) -> bool | None:
        """Feed the pictures of one check, in order, seen at `now_s` (a monotonic clock); None when
        there is nothing to judge by (no complete picture)."""
        if not hashes:
            return None
        changed = False
        for picture in hashes:
            if picture != self.last_hash:
                changed = True
                self.last_hash = picture
        return self.judge(changed, now_s)

    def judge(self, changed: bool, now_s: float) -> bool:
        """Feed whether the picture changed during one check (by hash here, by the size of H.264
        access units in h264.py); the first check counts as a change."""
        if changed or self.changed_s is None:
            self.changed_s = now_s
            return False
        return now_s - self.changed_s >= self.frozen_after_s
