"""Why a device did not answer `edge probe snmp`: one class of failure and a one-line hint.

The fast backend (gufo) reports every SNMPv3 failure as "authentication failed" and a wrong community
as a plain timeout, so after a failed poll the probe asks again with pysnmp, which exposes the USM
report PDUs (usmStatsUnknownUserNames, usmStatsWrongDigests, usmStatsDecryptionErrors,
usmStatsNotInTimeWindows). What no report says is inferred from a second question:
- a v2c timeout, then a v3 discovery that is answered: the agent speaks SNMP, the community is wrong;
- a v3 authPriv timeout, then an authNoPriv request with the same user and auth key that is answered:
  the auth key is right, so the privacy key is wrong (net-snmp drops such requests without a report);
- an ICMP port unreachable on a connected UDP socket: nothing listens on that port;
- error-status tooBig to pysnmp's one-varbind GET: the agent cannot answer even that (gufo reads a
  tooBig response as an empty one, so the poll's own error does not always say it).
"""

from __future__ import annotations

import asyncio
import errno
import socket
from dataclasses import dataclass
from typing import Any

from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    get_cmd,
)
from pysnmp.proto import errind

from edge_gateway.agent.collectors.snmp.backend import Credentials, resolve
from edge_gateway.agent.collectors.snmp.backend_pysnmp import _AUTH, _PRIV

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
TOO_BIG = 1  # error-status tooBig (RFC 3416)
DISCOVERY_USER = "edge-probe-discovery"  # an unknown user: any agent answers it with a report


@dataclass(frozen=True, slots=True)
class Diagnosis:
    kind: str  # unreachable, no-snmp, wrong-community, unknown-user, wrong-auth-key, ...
    text: str
    hint: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}\n  hint: {self.hint}"


HINTS = {
    "unreachable": "check the address and the route (ping it); a name must resolve on this host",
    "no-snmp": "the host answers but no SNMP agent listens on that port: check the port, enable SNMP",
    "wrong-community": "no answer with this community: check it (--community-file) and the agent's ACL",
    "unknown-user": "the agent has no such v3 user: check --v3-user against the device's SNMP users",
    "wrong-auth-key": "the auth key or auth protocol (sha/md5) does not match the device's",
    "wrong-priv-key": "the auth key is right; the privacy key or protocol (aes/des) does not match",
    "not-in-time-window": "the agent's engine clock disagrees: retry; if it persists the agent's boots "
    "counter or clock is stuck",
    "too-big": "the answers do not fit the agent's message size: lower max_repetitions; if even one "
    "value does not fit, check the agent's buffer and the path MTU",
    "timeout": "no answer in time: the device is down, filtered, or slow (raise --timeout-s)",
}


def _diagnosis(kind: str, text: str) -> Diagnosis:
    return Diagnosis(kind, text, HINTS[kind])


def _port_refused(address: str, port: int, wait_s: float) -> bool | None:
    """True when the host answers "port unreachable", None when it is unreachable, else False."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(wait_s)
        try:
            sock.connect((address, port))
            sock.send(b"")
            sock.recv(1)
        except ConnectionRefusedError:
            return True
        except TimeoutError:
            return False
        except OSError as exc:
            if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
                return None
            return False
    return False


async def _ask(address: str, credentials: Credentials, auth: Any) -> Any:
    """The error indication (or None) and error status of one GET of sysUpTime."""
    engine = SnmpEngine()
    try:
        target = await UdpTransportTarget.create(
            (address, credentials.port), timeout=credentials.timeout_s, retries=0
        )
        indication, status, _, _ = await get_cmd(
            engine, auth, target, ContextData(), ObjectType(ObjectIdentity(SYS_UPTIME))
        )
    finally:
        engine.close_dispatcher()
    return indication, status


def _usm(credentials: Credentials, with_priv: bool = True) -> Any:
    kwargs: dict[str, Any] = {}
    if credentials.auth_protocol:
        kwargs |= {"authKey": credentials.auth_key, "authProtocol": _AUTH[credentials.auth_protocol]}
    if with_priv and credentials.priv_protocol:
        kwargs |= {"privKey": credentials.priv_key, "privProtocol": _PRIV[credentials.priv_protocol]}
    return UsmUserData(credentials.user, **kwargs)


def _report(indication: Any) -> Diagnosis | None:
    if isinstance(indication, errind.UnknownUserName):
        return _diagnosis("unknown-user", "usmStatsUnknownUserNames: the agent does not know this user")
    if isinstance(indication, errind.WrongDigest):
        return _diagnosis("wrong-auth-key", "usmStatsWrongDigests: the request's digest was wrong")
    if isinstance(indication, errind.DecryptionError):
        return _diagnosis("wrong-priv-key", "usmStatsDecryptionErrors: the agent could not decrypt")
    if isinstance(indication, errind.NotInTimeWindow):
        return _diagnosis("not-in-time-window", "usmStatsNotInTimeWindows")
    return None


async def diagnose(credentials: Credentials, error: str) -> Diagnosis:
    """The class of the failure `error` (the poll's error text) of the device at `credentials`."""
    where = f"{credentials.host}:{credentials.port}"
    try:
        address = await resolve(credentials.host, credentials.port)
    except OSError as exc:
        return _diagnosis("unreachable", str(exc))
    if "TooBig" in error:
        return _diagnosis("too-big", f"{where}: {error}")
    refused = await asyncio.to_thread(
        _port_refused, address, credentials.port, min(credentials.timeout_s, 1.0)
    )
    if refused is None:
        return _diagnosis("unreachable", f"{where}: no route to the host")
    if refused:
        return _diagnosis("no-snmp", f"{where}: port unreachable")
    if credentials.v3:
        indication, status = await _ask(address, credentials, _usm(credentials))
        known = _report(indication)
        if known is not None:
            return known
        if isinstance(indication, errind.RequestTimedOut) and credentials.priv_protocol:
            indication, status = await _ask(address, credentials, _usm(credentials, with_priv=False))
            if not indication:
                return _diagnosis("wrong-priv-key", f"{where}: answered without privacy, not with it")
    else:
        indication, status = await _ask(address, credentials, CommunityData(credentials.community))
        if isinstance(indication, errind.RequestTimedOut):
            discovery, _ = await _ask(address, credentials, UsmUserData(DISCOVERY_USER))
            if not isinstance(discovery, errind.RequestTimedOut):
                return _diagnosis("wrong-community", f"{where} speaks SNMP but not with this community")
    if isinstance(indication, errind.RequestTimedOut):
        return _diagnosis("timeout", f"{where}: no SNMP answer within {credentials.timeout_s} s")
    if not indication and status is not None and int(status) == TOO_BIG:
        return _diagnosis("too-big", f"{where}: error-status tooBig to a GET of one varbind")
    return _diagnosis("timeout", f"{where}: {error or indication or status}")
