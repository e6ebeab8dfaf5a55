"""Reading untrusted bytes at a bounded cost: sizes checked before parsing, numbers range-checked.

A gateway's messages may be hostile (a stolen gateway, a forged message): nothing read from the wire
may cost the bridge more memory or time than a limit set in its config, and no number from the wire
may reach code that assumes it fits a 64-bit integer (InfluxDB, SQLite and Prometheus all do).
"""

from __future__ import annotations

import zlib

INT64_MAX = 2**63 - 1
GZIP_WBITS = 31  # zlib's "gzip header and trailer" mode
MAX_DIGITS = 20  # enough for any 64-bit number; int() of a longer string is quadratic in CPython


class LimitError(ValueError):
    """Input over a limit, or a number out of range; the message says which."""


class TooLarge(LimitError):
    """Input over a size limit (as received, or once decompressed)."""


def check_size(payload: bytes, max_bytes: int, what: str) -> None:
    if len(payload) > max_bytes:
        raise TooLarge(f"{what} of {len(payload)} bytes is over the limit of {max_bytes}")


def gunzip_bounded(payload: bytes, max_bytes: int) -> bytes:
    """Decompress one gzip member, producing at most `max_bytes` (a zip bomb stops there).

    At most `max_bytes + 1` bytes are ever inflated: one more than allowed proves the limit is passed.
    """
    inflater = zlib.decompressobj(GZIP_WBITS)
    try:
        out = inflater.decompress(payload, max_bytes + 1)
    except zlib.error as exc:
        raise LimitError(f"content type says gzip, but: {exc}") from exc
    if len(out) > max_bytes:
        raise TooLarge(f"gzip body inflates to more than the limit of {max_bytes} bytes")
    if not inflater.eof:
        raise LimitError("content type says gzip, but the gzip stream is truncated")
    if inflater.unused_data:
        raise LimitError("content type says gzip, but data follows the gzip stream")
    return out


def wire_int(value: str | None, name: str, low: int = 0, high: int = INT64_MAX) -> int:
    """An integer from the wire, in [low, high]; LimitError names the property otherwise."""
    if value is None:
        raise LimitError(f"user property {name} is missing")
    text = value.strip()
    if len(text) > MAX_DIGITS:
        raise LimitError(f"user property {name} is too long ({len(text)} characters)")
    try:
        number = int(text)
    except ValueError as exc:
        raise LimitError(f"user property {name} must be an integer, got {text[:MAX_DIGITS]!r}") from exc
    if not low <= number <= high:
        raise LimitError(f"user property {name}={number} is out of range [{low}, {high}]")
    return number
