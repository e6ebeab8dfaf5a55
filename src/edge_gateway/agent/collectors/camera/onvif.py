"""ONVIF device service over SOAP 1.2 (HTTP POST), with a WS-Security UsernameToken (password digest).

Two calls: `GetSystemDateAndTime` (the camera's UTC clock: its drift matters for evidence, a
recording with a wrong clock is hard to use in court) and `GetDeviceInformation` (maker, model,
firmware). The drift is the camera's UTC minus the gateway's clock at the midpoint of the request;
ONVIF gives whole seconds, so the drift is good to about ±1 s — plenty for an alert at a few seconds.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import os
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import aiohttp

MAX_RESPONSE_BYTES = 262_144
DEVICE_PATH = "/onvif/device_service"
_NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
}
_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"


class OnvifError(Exception):
    """The device service did not answer as ONVIF should, or refused the credentials."""


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """Base64(SHA-1(nonce + created + password)): the UsernameToken profile's PasswordDigest."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def security_header(user: str, password: str, now_s: float) -> str:
    if not user:
        return ""
    nonce = os.urandom(16)
    created = datetime.fromtimestamp(now_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'<s:Header><Security xmlns="{_WSSE}" s:mustUnderstand="1"><UsernameToken>'
        f"<Username>{_xml_text(user)}</Username>"
        f'<Password Type="{_DIGEST}">{password_digest(nonce, created, password)}</Password>'
        f'<Nonce>{base64.b64encode(nonce).decode()}</Nonce><Created xmlns="{_WSU}">{created}</Created>'
        "</UsernameToken></Security></s:Header>"
    )


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def envelope(call: str, user: str, password: str, now_s: float) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{_NS["s"]}">'
        f"{security_header(user, password, now_s)}"
        f'<s:Body><{call} xmlns="{_NS["tds"]}"/></s:Body></s:Envelope>'
    )


async def _call(http: aiohttp.ClientSession, address: str, call: str, user: str, password: str) -> ET.Element:
    body = envelope(call, user, password, time.time())
    headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{_NS["tds"]}/{call}"'}
    async with http.post(f"http://{address}{DEVICE_PATH}", data=body, headers=headers) as response:
        data = await response.content.read(MAX_RESPONSE_BYTES + 1)
        if len(data) > MAX_RESPONSE_BYTES:
            raise OnvifError(f"{call}: answer longer than {MAX_RESPONSE_BYTES} bytes")
        try:
            root = ET.fromstring(data)
        except ET.ParseError as exc:
            raise OnvifError(f"{call}: answered HTTP {response.status} without SOAP") from exc
    fault = root.find(".//s:Fault", _NS)
    if fault is not None or response.status != 200:
        reason = "".join(fault.itertext()).strip() if fault is not None else ""
        raise OnvifError(f"{call}: HTTP {response.status} {reason[:80]}".rstrip())
    return root


def camera_utc_s(root: ET.Element) -> float:
    """Seconds since the epoch of the `UTCDateTime` in a GetSystemDateAndTime answer."""
    utc = root.find(".//tt:UTCDateTime", _NS)
    if utc is None:
        raise OnvifError("GetSystemDateAndTime: no UTCDateTime")

    def number(path: str) -> int:
        text = utc.findtext(path, namespaces=_NS)
        if text is None or not text.strip().isdigit():
            raise OnvifError(f"GetSystemDateAndTime: {path} missing or not a number")
        return int(text)

    date, clock = "tt:Date/tt:", "tt:Time/tt:"
    try:
        moment = datetime(
            number(date + "Year"), number(date + "Month"), number(date + "Day"),
            number(clock + "Hour"), number(clock + "Minute"), number(clock + "Second"),
        )  # fmt: skip
        return float(calendar.timegm(moment.timetuple()))
    except ValueError as exc:
        raise OnvifError(f"GetSystemDateAndTime: not a date: {exc}") from exc


async def clock_drift_s(http: aiohttp.ClientSession, address: str, user: str, password: str) -> float:
    """The camera's UTC minus ours at the request's midpoint, in seconds (about ±1 s)."""
    sent_s = time.time()
    root = await _call(http, address, "GetSystemDateAndTime", user, password)
    return round(camera_utc_s(root) - (sent_s + time.time()) / 2, 1)


async def device_information(
    http: aiohttp.ClientSession, address: str, user: str, password: str
) -> dict[str, str]:
    root = await _call(http, address, "GetDeviceInformation", user, password)
    names = {"maker": "Manufacturer", "model_name": "Model", "firmware": "FirmwareVersion"}
    # `{*}`: any namespace; some firmwares put the answer's elements in none
    return {key: (root.findtext(f".//{{*}}{name}") or "").strip()[:64] for key, name in names.items()}
