"""The one small I/O protocol every SNMP client library is put behind, and its errors.

Three methods, so a fake is trivial and a second library (pysnmp, for platforms without gufo wheels)
passes the same tests: `get_many` (one GET for many scalars), `bulk_walk` (GETBULK under one column,
raw: the caller guards the order and the size) and `close`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Value = None | str | bytes | int | float


class SnmpBackendError(Exception):
    """An SNMP request failed; subclasses say how, so the walker knows what to try next."""


class NoResponse(SnmpBackendError):
    """The device did not answer within the request timeout."""


class TooBig(SnmpBackendError):
    """The answer would not fit one datagram (error-status tooBig): ask for fewer repetitions."""


class AuthFailure(SnmpBackendError):
    """SNMPv3 authentication or privacy failed, or the engine could not be discovered."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """Where and who: a v2c community, or a v3 user with optional auth and privacy."""

    host: str
    port: int
    timeout_s: float
    community: str = ""
    user: str = ""
    auth_protocol: Literal["sha", "md5"] | None = None
    auth_key: str = ""
    priv_protocol: Literal["aes", "des"] | None = None
    priv_key: str = ""

    @property
    def v3(self) -> bool:
        return bool(self.user)


class SnmpBackend(Protocol):
    async def get_many(self, oids: Sequence[str]) -> dict[str, Value]: ...

    def bulk_walk(self, column: str, max_repetitions: int) -> AsyncGenerator[tuple[str, Value], None]: ...

    async def close(self) -> None: ...


async def resolve(host: str, port: int) -> str:
    """The address of `host`, IPv4 first: the client libraries take addresses only (gufo answers a
    host name with `OSError: invalid address`). A name is looked up again at every (re)connect, so an
    AP that moved is found after its next failure. A name that does not resolve raises OSError."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise OSError(f"{host}: cannot resolve: {exc.strerror or exc}") from exc
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    if not infos:
        raise OSError(f"{host}: no address")
    return str(infos[0][4][0])


async def open_backend(name: Literal["gufo", "pysnmp"], credentials: Credentials) -> SnmpBackend:
    """A connected client; for v3 the engine discovery has been done. `credentials.host` may be a
    name: the backend is given its address."""
    address = await resolve(credentials.host, credentials.port)
    credentials = dataclasses.replace(credentials, host=address)
    if name == "pysnmp":
        from edge_gateway.agent.collectors.snmp.backend_pysnmp import PysnmpBackend

        return await PysnmpBackend.open(credentials)
    from edge_gateway.agent.collectors.snmp.backend_gufo import GufoBackend

    return await GufoBackend.open(credentials)
