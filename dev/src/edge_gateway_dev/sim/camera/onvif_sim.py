"""Simulated camera web services on loopback: the ONVIF device service and an HTTP JPEG snapshot.

One aiohttp server per camera. `POST /onvif/device_service` answers `GetSystemDateAndTime` (without
credentials, as ONVIF allows) and `GetDeviceInformation` (WS-UsernameToken password digest checked,
as a camera does); `GET /snapshot.jpg` returns a small JPEG-framed picture that changes at every
request, with a `Last-Modified` header. Faults (the `--faults` of `edge sim fleet`):
`no_reply` (accepts the connection, never answers), `frozen` (the same picture, an old
`Last-Modified`), `auth_fail` (refuses every credential), `slow` or `slow=S` (answers after S
seconds, default 3), `clock_skew=S` (its clock is S seconds ahead; negative: behind).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate

from aiohttp import web

FAULTS = ("no_reply", "frozen", "auth_fail", "slow", "clock_skew")
_FAULT = "http://www.onvif.org/ver10/error"


def parse_faults(text: str) -> dict[str, float]:
    """`frozen,slow=2,clock_skew=-40` -> {"frozen": 1.0, "slow": 2.0, "clock_skew": -40.0}."""
    faults: dict[str, float] = {}
    defaults = {"slow": 3.0, "clock_skew": 30.0}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if name not in FAULTS:
            raise ValueError(f"unknown camera fault {name!r}; known: {', '.join(FAULTS)}")
        try:
            faults[name] = float(value) if sep else defaults.get(name, 1.0)
        except ValueError as exc:
            raise ValueError(f"{name}={value!r}: not a number") from exc
    return faults


@dataclass
class CameraSim:
    name: str
    user: str
    password: str
    faults: dict[str, float] = field(default_factory=dict)
    model: str = "SIM-CAM-2000"
    snapshots: int = 0
    frozen_since_s: float = field(default_factory=time.time)
    port: int = 0

    def now_s(self) -> float:
        return time.time() + self.faults.get("clock_skew", 0.0)

    def authorised(self, body: str) -> bool:
        if "auth_fail" in self.faults:
            return False
        found = {
            key: re.search(rf"<(?:\w+:)?{key}[^>]*>([^<]*)</", body)
            for key in ("Username", "Password", "Nonce", "Created")
        }
        if any(match is None for match in found.values()):
            return False
        user, digest, nonce, created = (match.group(1) for match in found.values() if match is not None)
        try:
            raw = base64.b64decode(nonce) + created.encode() + self.password.encode()
        except ValueError:
            return False
        # computed here, not with the collector's helper: the simulator checks the collector
        expected = base64.b64encode(hashlib.sha1(raw).digest()).decode()
        return user == self.user and hmac.compare_digest(expected, digest)

    async def _delay(self) -> None:
        if "no_reply" in self.faults:
            await asyncio.Event().wait()
        if "slow" in self.faults:
            await asyncio.sleep(self.faults["slow"])

    async def device_service(self, request: web.Request) -> web.Response:
        await self._delay()
        body = (await request.content.read(65_536)).decode("utf-8", "replace")
        if "GetSystemDateAndTime" in body:
            return _soap(_date_and_time(self.now_s()))
        if "GetDeviceInformation" in body:
            if not self.authorised(body):
                return _soap(f'<s:Fault><s:Reason><s:Text>Sender not authorized ({_FAULT})</s:Text>'
                             "</s:Reason></s:Fault>", status=400)  # fmt: skip
            info = f"<tds:Manufacturer>EdgeSim</tds:Manufacturer><tds:Model>{self.model}</tds:Model>"
            info += "<tds:FirmwareVersion>1.4.2</tds:FirmwareVersion>"
            info += f"<tds:SerialNumber>{self.name}</tds:SerialNumber>"
            return _soap(f'<tds:GetDeviceInformationResponse xmlns:tds="{_TDS}">{info}'
                         "</tds:GetDeviceInformationResponse>")  # fmt: skip
        return _soap("<s:Fault><s:Reason><s:Text>ActionNotSupported</s:Text></s:Reason></s:Fault>", 400)

    async def snapshot(self, _request: web.Request) -> web.Response:
        await self._delay()
        frozen = "frozen" in self.faults
        if not frozen:
            self.snapshots += 1
        picture = b"\xff\xd8\xff\xe0" + f"{self.name}:{self.snapshots}".encode() * 64 + b"\xff\xd9"
        modified = self.frozen_since_s if frozen else time.time()
        headers = {"Last-Modified": formatdate(modified, usegmt=True)}
        return web.Response(body=picture, content_type="image/jpeg", headers=headers)


_TDS = "http://www.onvif.org/ver10/device/wsdl"


def _date_and_time(now_s: float) -> str:
    moment = datetime.fromtimestamp(now_s, UTC)
    return (
        f'<tds:GetSystemDateAndTimeResponse xmlns:tds="{_TDS}" xmlns:tt="http://www.onvif.org/ver10/schema">'
        "<tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType><tt:UTCDateTime>"
        f"<tt:Time><tt:Hour>{moment.hour}</tt:Hour><tt:Minute>{moment.minute}</tt:Minute>"
        f"<tt:Second>{moment.second}</tt:Second></tt:Time><tt:Date><tt:Year>{moment.year}</tt:Year>"
        f"<tt:Month>{moment.month}</tt:Month><tt:Day>{moment.day}</tt:Day></tt:Date>"
        "</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


def _soap(body: str, status: int = 200) -> web.Response:
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>{body}</s:Body></s:Envelope>'
    )
    return web.Response(text=text, status=status, content_type="application/soap+xml")


@contextlib.asynccontextmanager
async def serve_cameras(cameras: list[CameraSim], host: str = "127.0.0.1") -> AsyncIterator[list[CameraSim]]:
    """Each camera's web services on its own free port (set in `camera.port`) for the block."""
    runners: list[web.AppRunner] = []
    try:
        for camera in cameras:
            app = web.Application()
            app.router.add_post("/onvif/device_service", camera.device_service)
            app.router.add_get("/snapshot.jpg", camera.snapshot)
            runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
            await runner.setup()
            runners.append(runner)
            site = web.TCPSite(runner, host, camera.port)
            await site.start()
            camera.port = runner.addresses[0][1]
        yield cameras
    finally:
        for runner in runners:
            await runner.cleanup()
