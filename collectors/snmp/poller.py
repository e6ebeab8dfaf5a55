"""A first SNMP collector: uptime and IF-MIB octet counters of one device, over gufo-snmp.

One `SnmpPoller` per device, run by the scheduler in its own task. Each poll has its own deadline
and retries; the device's `device_status` reading (up, latency_ms, error) is emitted every cycle,
whether the poll worked or not. Walks are guarded against agents whose OIDs do not increase (a real
firmware bug that would otherwise loop forever) and capped in size.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from gufo.snmp import Aes128Key, DesKey, Md5Key, Sha1Key, SnmpError, User
from gufo.snmp.aio.client import SnmpSession

from edge.config import SnmpDevice
from edge.model import FieldValue, Reading
from edge.scheduler import Accumulator

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_OUT_OCTETS = "1.3.6.1.2.1.2.2.1.16"
MAX_VARBINDS_PER_WALK = 10_000


class PollError(Exception):
    """One poll of one device failed; chained to the SNMP or timeout error underneath."""


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in oid.strip(".").split("."))


async def walk(session: SnmpSession, column: str) -> dict[str, object]:
    """Values of one column by row index, stopping at the end of the column."""
    prefix, rows = column + ".", {}
    last: tuple[int, ...] = _oid_key(column)
    iterator: AsyncIterator[tuple[str, object]] = session.getbulk(column)
    async for oid, value in iterator:
        if not oid.startswith(prefix):
            break
        key = _oid_key(oid)
        if key <= last:
            raise PollError(f"OID not increasing at {oid} after {'.'.join(map(str, last))}")
        last = key
        rows[oid[len(prefix) :]] = value
        if len(rows) >= MAX_VARBINDS_PER_WALK:
            raise PollError(f"more than {MAX_VARBINDS_PER_WALK} rows under {column}")
    return rows


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def session_for(device: SnmpDevice) -> SnmpSession:
    host, port = device.address
    if device.version == "2c":
        community = device.community.get_secret_value() if device.community else ""
        return SnmpSession(addr=host, port=port, community=community, timeout=device.timeout_s)
    auth = priv = None
    if device.auth_protocol and device.auth_key:
        auth = {"sha": Sha1Key, "md5": Md5Key}[device.auth_protocol](
            device.auth_key.get_secret_value().encode()
        )
    if device.priv_protocol and device.priv_key:
        priv = {"aes": Aes128Key, "des": DesKey}[device.priv_protocol](
            device.priv_key.get_secret_value().encode()
        )
    user = User(device.user or "", auth_key=auth, priv_key=priv)
    return SnmpSession(addr=host, port=port, user=user, timeout=device.timeout_s)


class SnmpPoller:
    """Polls one device; the scheduler calls `collect` every `interval_s`.

    `limit` is shared by all pollers: at most `snmp.concurrency` polls are on the wire at once.
    """

    def __init__(self, device: SnmpDevice, site: str, limit: asyncio.Semaphore) -> None:
        self.device = device
        self.limit = limit
        self.name = f"snmp[{device.name}]"
        self.interval_s = device.interval_s
        self.tags = {"device": device.name, "site": device.site or site}

    async def collect(self, acc: Accumulator) -> None:
        started_s = time.monotonic()
        time_ns = time.time_ns()
        error: BaseException | None = None
        for _attempt in range(self.device.retries + 1):
            try:
                async with self.limit:
                    readings = await self._poll(time_ns)
            except (SnmpError, TimeoutError, OSError, PollError) as exc:
                error = exc
                continue
            for reading in readings:
                acc.add(reading)
            error = None
            break
        latency_ms = round((time.monotonic() - started_s) * 1000, 1)
        status = {"kind": "snmp", **self.tags}
        fields: dict[str, FieldValue] = {
            "up": error is None,
            "latency_ms": latency_ms,
            "error": _error_text(error),
        }
        acc.add(Reading("device_status", status, fields, time_ns))
        if error is None:
            acc.add_success(self.name)
        else:
            acc.add(Reading("ap", self.tags, {"up": False}, time_ns))
            acc.add_error(self.name, PollError(f"{self.device.host}: {_error_text(error)}"))

    async def _poll(self, time_ns: int) -> list[Reading]:
        async with session_for(self.device) as session:
            uptime_ticks = await session.get(SYS_UPTIME)
            names = await walk(session, IF_NAME) or await walk(session, IF_DESCR)
            in_octets = await walk(session, IF_HC_IN_OCTETS) or await walk(session, IF_IN_OCTETS)
            out_octets = await walk(session, IF_HC_OUT_OCTETS) or await walk(session, IF_OUT_OCTETS)
        readings = [
            Reading("ap", self.tags, {"up": True, "uptime_s": int(str(uptime_ticks)) // 100}, time_ns)
        ]
        for index, name in names.items():
            fields: dict[str, FieldValue] = {}
            for field, column in (("in_octets", in_octets), ("out_octets", out_octets)):
                if isinstance(column.get(index), int):
                    fields[field] = int(str(column[index]))
            if fields:
                tags = {**self.tags, "ifname": _text(name)}
                readings.append(Reading("ap_iface", tags, fields, time_ns))
        return readings


def _error_text(error: BaseException | None) -> str:
    if error is None:
        return ""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
