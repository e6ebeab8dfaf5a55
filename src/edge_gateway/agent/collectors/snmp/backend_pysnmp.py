"""pysnmp 7 behind the backend protocol: pure Python, for platforms without gufo-snmp wheels.

Walks are driven here with one GETBULK at a time (`bulk_cmd`), not `bulk_walk_cmd`, so that the
shared walker sees every varbind and applies the same order guard, size cap and tooBig halving as
with gufo. MIB lookup is off: values are returned as plain Python numbers, bytes and dotted OIDs.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    USM_AUTH_HMAC96_MD5,
    USM_AUTH_HMAC96_SHA,
    USM_AUTH_NONE,
    USM_PRIV_CBC56_DES,
    USM_PRIV_CFB128_AES,
    USM_PRIV_NONE,
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
)
from pysnmp.proto import errind, rfc1902, rfc1905

from edge_gateway.agent.collectors.snmp.backend import (
    AuthFailure,
    Credentials,
    NoResponse,
    SnmpBackendError,
    TooBig,
    Value,
)

_AUTH = {"sha": USM_AUTH_HMAC96_SHA, "md5": USM_AUTH_HMAC96_MD5}
_PRIV = {"aes": USM_PRIV_CFB128_AES, "des": USM_PRIV_CBC56_DES}
_NUMBERS = (
    rfc1902.Integer,
    rfc1902.Integer32,
    rfc1902.Counter32,
    rfc1902.Counter64,
    rfc1902.Gauge32,
    rfc1902.Unsigned32,
    rfc1902.TimeTicks,
)
_ABSENT = (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView)


def _value(value: Any) -> Value:
    if isinstance(value, _ABSENT):
        return None
    if isinstance(value, rfc1902.IpAddress):
        return ".".join(str(octet) for octet in value.asOctets())
    if isinstance(value, rfc1902.OctetString):
        return bytes(value.asOctets())
    if isinstance(value, rfc1902.ObjectIdentifier):
        return str(value)
    if isinstance(value, _NUMBERS):
        return int(value)
    return str(value)


def _check(indication: Any, status: Any, index: Any) -> None:
    if indication:
        if isinstance(indication, errind.RequestTimedOut):
            raise NoResponse("no response")
        text = str(indication)
        if "auth" in text.lower() or "unknown" in text.lower() or "decrypt" in text.lower():
            raise AuthFailure(text)
        raise SnmpBackendError(text)
    if status:
        text = status.prettyPrint() if hasattr(status, "prettyPrint") else str(status)
        if text == "tooBig":
            raise TooBig(text)
        raise SnmpBackendError(f"{text} at varbind {index}")


_ENGINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, ...], Any]] = (
    weakref.WeakKeyDictionary()
)


def _engine(credentials: Credentials) -> Any:
    """An SnmpEngine shared by the devices of one event loop with the same credentials: building one
    costs ~0.1 s of CPU, and one engine keeps one set of keys per v3 user name."""
    engines = _ENGINES.setdefault(asyncio.get_running_loop(), {})
    key = (credentials.user, credentials.auth_key, credentials.priv_key) if credentials.v3 else ("v2c",)
    if key not in engines:
        engines[key] = SnmpEngine()
    return engines[key]


class PysnmpBackend:
    def __init__(self, engine: SnmpEngine, auth: Any, target: UdpTransportTarget) -> None:
        self._engine, self._auth, self._target = engine, auth, target
        self._context = ContextData()

    @classmethod
    async def open(cls, credentials: Credentials) -> PysnmpBackend:
        auth: Any
        if credentials.v3:
            auth = UsmUserData(
                credentials.user,
                authKey=credentials.auth_key or None,
                privKey=credentials.priv_key or None,
                authProtocol=_AUTH[credentials.auth_protocol] if credentials.auth_protocol else USM_AUTH_NONE,
                privProtocol=_PRIV[credentials.priv_protocol] if credentials.priv_protocol else USM_PRIV_NONE,
            )
        else:
            auth = CommunityData(credentials.community, mpModel=1)
        target = await UdpTransportTarget.create(
            (credentials.host, credentials.port), timeout=credentials.timeout_s, retries=0
        )
        return cls(_engine(credentials), auth, target)

    async def get_many(self, oids: Sequence[str]) -> dict[str, Value]:
        request = [ObjectType(ObjectIdentity(oid)) for oid in oids]
        try:
            indication, status, index, var_binds = await get_cmd(
                self._engine, self._auth, self._target, self._context, *request, lookupMib=False
            )
        except PySnmpError as exc:
            raise SnmpBackendError(f"{type(exc).__name__}: {exc}") from exc
        _check(indication, status, index)
        values = {str(name): _value(value) for name, value in var_binds}
        return {oid: value for oid, value in values.items() if value is not None}

    async def bulk_walk(self, column: str, max_repetitions: int) -> AsyncGenerator[tuple[str, Value], None]:
        prefix, current = column + ".", column
        while True:
            request = ObjectType(ObjectIdentity(current))
            try:
                indication, status, index, var_binds = await bulk_cmd(
                    self._engine,
                    self._auth,
                    self._target,
                    self._context,
                    0,
                    max_repetitions,
                    request,
                    lookupMib=False,
                )
            except PySnmpError as exc:
                raise SnmpBackendError(f"{type(exc).__name__}: {exc}") from exc
            _check(indication, status, index)
            if not var_binds:
                return
            for name, value in var_binds:
                oid = str(name)
                if isinstance(value, rfc1905.EndOfMibView) or not oid.startswith(prefix):
                    return
                yield oid, _value(value)
                current = oid

    async def close(self) -> None:
        """The engine is shared; a device has nothing of its own to release."""
