"""A small RTSP client over asyncio streams: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN with digest (or
basic) authentication, and RTP over the same TCP connection (interleaved, RFC 2326 §10.12).

Enough to check a camera, not to watch it: one video track is set up and its RTP packets are read
for a short pull; the payload goes no further than `StreamStats` (a count, a size, a hash).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from edge_gateway.agent.collectors.camera.h264 import H264Units

MAX_HEADER_BYTES = 16_384
MAX_BODY_BYTES = 65_536


class RtspError(Exception):
    """The camera answered but not as RTSP should, or refused (`status` set when it answered)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Track:
    """The video track of a DESCRIBE: where to SETUP it, its RTP payload type, encoding and clock."""

    control_url: str
    payload_type: int
    encoding: str
    clock_rate: int
    fmtp: str = ""  # the format parameters (H.264: sprop-parameter-sets, the picture size among them)


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Digest realm="x", nonce="y"` -> ("digest", {"realm": "x", "nonce": "y"})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {key.lower(): value for key, value in re.findall(r'(\w+)="?([^",]*)"?', rest)}
    return scheme.lower(), params


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def authorization(challenge: str, user: str, password: str, method: str, uri: str) -> str:
    """The Authorization header answering a WWW-Authenticate challenge (RFC 2617 digest, or basic)."""
    scheme, params = parse_challenge(challenge)
    if scheme == "basic":
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    realm, nonce = params.get("realm", ""), params.get("nonce", "")
    ha1, ha2 = _md5(f"{user}:{realm}:{password}"), _md5(f"{method}:{uri}")
    header = f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}"'
    if "auth" in params.get("qop", "").split(","):
        cnonce = secrets.token_hex(8)
        response = _md5(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}")
        header += f', qop=auth, nc=00000001, cnonce="{cnonce}"'
    else:
        response = _md5(f"{ha1}:{nonce}:{ha2}")
    if "opaque" in params:
        header += f', opaque="{params["opaque"]}"'
    return header + f', response="{response}"'


def video_track(sdp: str, base_url: str) -> Track:
    """The first video track of an SDP description (RFC 4566), with its control URL made absolute."""
    in_video, control, payload_type, encoding, clock_rate, fmtp = False, "", -1, "", 90_000, ""
    for line in sdp.splitlines():
        if line.startswith("m="):
            if in_video:
                break
            parts = line[2:].split()
            in_video = parts[0] == "video" and len(parts) > 3
            if in_video:
                payload_type = int(parts[3])
        elif in_video and line.startswith("a=control:"):
            control = line.removeprefix("a=control:").strip()
        elif in_video and line.startswith(f"a=rtpmap:{payload_type} "):
            name, _, rate = line.split(" ", 1)[1].partition("/")
            encoding, clock_rate = name.upper(), int(rate.split("/")[0] or 90_000)
        elif in_video and line.startswith(f"a=fmtp:{payload_type} "):
            fmtp = line.split(" ", 1)[1].strip()
    if payload_type < 0:
        raise RtspError("the description has no video track")
    if payload_type == 26 and not encoding:
        encoding = "JPEG"  # static payload type of RFC 3551
    url = base_url if control in ("", "*") else urljoin(base_url.rstrip("/") + "/", control)
    return Track(url, payload_type, encoding, clock_rate, fmtp)


@dataclass(slots=True)
class StreamStats:
    """What a pull saw, counted by RTP timestamp: one timestamp is one frame (RFC 3550 §5.1)."""

    clock_rate: int
    frames: int = 0
    payload_bytes: int = 0
    first_ts: int | None = None
    span_ticks: int = 0  # RTP clock ticks from the first frame to the last, wrap-safe
    last_ts: int = 0
    picture_hashes: list[bytes] = field(default_factory=list)  # one per complete frame, in order
    h264: H264Units | None = None  # H.264 access unit sizes, when the stream is judged by them
    _hash: hashlib.blake2b | None = None

    def add(self, packet: bytes, hash_pictures: bool) -> None:
        if len(packet) < 12 or packet[0] >> 6 != 2:
            return
        count, extension, padding = packet[0] & 0x0F, packet[0] & 0x10, packet[0] & 0x20
        marker, ts = bool(packet[1] & 0x80), int.from_bytes(packet[4:8], "big")
        start = 12 + 4 * count
        if extension and len(packet) >= start + 4:
            start += 4 + 4 * int.from_bytes(packet[start + 2 : start + 4], "big")
        end = len(packet) - (packet[-1] if padding and packet[-1] < len(packet) - start else 0)
        payload = packet[start:end]
        if self.first_ts is None:
            self.first_ts, self.last_ts, self.frames = ts, ts, 1
        elif ts != self.last_ts:
            self.span_ticks += (ts - self.last_ts) % 2**32
            self.last_ts = ts
            self.frames += 1
            self._hash = None  # a frame whose marker was lost is not hashed
        self.payload_bytes += len(payload)
        if self.h264 is not None:
            self.h264.add(payload, ts, marker)
        if hash_pictures:
            if self._hash is None:
                self._hash = hashlib.blake2b(digest_size=16)
            self._hash.update(payload)
            if marker:
                self.picture_hashes.append(self._hash.digest())
                self._hash = None

    @property
    def fps(self) -> float | None:
        return (self.frames - 1) * self.clock_rate / self.span_ticks if self.span_ticks else None

    @property
    def bitrate_kbps(self) -> float | None:
        if not self.span_ticks:
            return None
        return (
            self.payload_bytes
            * 8
            * (self.frames - 1)
            / self.frames
            / (self.span_ticks / self.clock_rate)
            / 1000
        )


class RtspSession:
    """One RTSP connection to one camera; requests in order, RTP read from the same socket."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str, user: str, password: str
    ) -> None:
        self.reader, self.writer, self.url = reader, writer, url
        self.user, self.password = user, password
        self.cseq = 0
        self.challenge = ""
        self.session = ""

    @classmethod
    async def connect(cls, url: str, user: str, password: str) -> RtspSession:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 554)
        return cls(reader, writer, clean_url(url), user, password)

    async def request(self, method: str, uri: str, headers: dict[str, str] | None = None) -> Response:
        """Send one request; answer one digest challenge with the credentials, once."""
        response = await self._exchange(method, uri, headers or {})
        if response.status == 401 and self.user and not self.challenge:
            self.challenge = response.headers.get("www-authenticate", "")
            response = await self._exchange(method, uri, headers or {})
        if response.status != 200:
            raise RtspError(f"{method} answered {response.status}", response.status)
        return response

    async def _exchange(self, method: str, uri: str, headers: dict[str, str]) -> Response:
        self.cseq += 1
        lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {self.cseq}", "User-Agent: edge-gateway"]
        if self.challenge:
            lines.append(
                "Authorization: " + authorization(self.challenge, self.user, self.password, method, uri)
            )
        if self.session:
            lines.append(f"Session: {self.session}")
        lines += [f"{key}: {value}" for key, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        return await self._response(skip=None)

    async def _response(self, skip: Callable[[int, bytes], None] | None) -> Response:
        """The next RTSP response; interleaved packets before it are handed to `skip` (or dropped)."""
        while True:
            first = await self.reader.readexactly(1)
            if first == b"$":
                channel, size = await self._interleaved_header()
                data = await self.reader.readexactly(size)
                if skip is not None:
                    skip(channel, data)
                continue
            head = first + await self.reader.readuntil(b"\r\n\r\n")
            if len(head) > MAX_HEADER_BYTES:
                raise RtspError("response header too long")
            status_line, *header_lines = head.decode("utf-8", "replace").split("\r\n")
            match = re.match(r"RTSP/1\.\d (\d{3})", status_line)
            if not match:
                raise RtspError(f"not an RTSP response: {status_line[:60]!r}")
            headers: dict[str, str] = {}
            for line in header_lines:
                key, sep, value = line.partition(":")
                if sep:
                    headers[key.strip().lower()] = value.strip()
            size = int(headers.get("content-length", "0") or 0)
            if size > MAX_BODY_BYTES:
                raise RtspError(f"response body of {size} bytes is too long")
            body = await self.reader.readexactly(size) if size else b""
            return Response(int(match.group(1)), headers, body)

    async def _interleaved_header(self) -> tuple[int, int]:
        header = await self.reader.readexactly(3)
        return header[0], int.from_bytes(header[1:3], "big")

    async def describe(self) -> Track:
        response = await self.request("DESCRIBE", self.url, {"Accept": "application/sdp"})
        base = response.headers.get("content-base") or response.headers.get("content-location") or self.url
        return video_track(response.body.decode("utf-8", "replace"), base)

    async def play(self, track: Track) -> None:
        response = await self.request(
            "SETUP", track.control_url, {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
        )
        self.session = response.headers.get("session", "").split(";")[0].strip()
        if not self.session:
            raise RtspError("SETUP answered without a session")
        await self.request("PLAY", self.url, {"Range": "npt=0.000-"})

    async def pull(self, stats: StreamStats, hash_pictures: bool) -> None:
        """Read RTP of channel 0 into `stats` until cancelled: the caller's timeout ends the pull, so
        a camera that stops sending mid-pull costs no more than one that keeps sending."""
        while True:
            first = await self.reader.readexactly(1)
            if first != b"$":
                await self.reader.readuntil(b"\r\n\r\n")  # an RTSP message from the server: not ours
                continue
            channel, size = await self._interleaved_header()
            data = await self.reader.readexactly(size)
            if channel == 0:
                stats.add(data, hash_pictures)

    async def close(self) -> None:
        """TEARDOWN when a session is open (best effort), then close the socket."""
        try:
            if self.session:
                self.cseq += 1
                lines = [f"TEARDOWN {self.url} RTSP/1.0", f"CSeq: {self.cseq}", f"Session: {self.session}"]
                if self.challenge:
                    lines.append(
                        "Authorization: "
                        + authorization(self.challenge, self.user, self.password, "TEARDOWN", self.url)
                    )
                self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
                await asyncio.wait_for(self.writer.drain(), 1.0)
        except (OSError, TimeoutError):
            pass
        finally:
            self.writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(self.writer.wait_closed(), 1.0)


def clean_url(url: str) -> str:
    """The URL without user info: credentials travel in the Authorization header only."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=host).geturl()
