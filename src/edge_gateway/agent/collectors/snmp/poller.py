"""One device's collector: profile, deadline, retries, backoff while down, status every cycle.

The scheduler runs one `SnmpPoller` per device in its own task, so a dead or slow AP never delays
another; `limit` (shared) caps how many polls are on the wire at once. Each poll has its own deadline
(`asyncio.timeout`). A device that keeps failing is polled less often (every 2nd, 4th, ... cycle up to
`snmp.down_backoff_max_s`) and its going down and coming back are each logged once, by the scheduler's
health tracking fed from `acc.add_error` / `acc.add_success`. `device_status` is written every cycle,
with `requests` (sent this poll) and `tables_capped` (tables cut at the row cap this poll): a poll
spends at most the device's request budget and keeps at most its row cap per table (the device's
config, else its profile's `[limits]`); a poll over budget fails like a dead device's and is backed
off the same way, as is a device whose replies cannot be decoded. A capped table is logged once per
episode (when it starts and when it ends), like a device going down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from edge_gateway.agent.collectors.snmp.backend import (
    Credentials,
    SnmpBackend,
    SnmpBackendError,
    open_backend,
)
from edge_gateway.agent.collectors.snmp.config import SnmpDevice, SnmpSection
from edge_gateway.agent.collectors.snmp.privacy import ClientHasher
from edge_gateway.agent.collectors.snmp.profile import MAX_REQUESTS_PER_POLL, MAX_ROWS_PER_TABLE, Profile
from edge_gateway.agent.collectors.snmp.readings import CounterState, build
from edge_gateway.agent.collectors.snmp.snapshot import fetch, identify
from edge_gateway.agent.collectors.snmp.walk import Link
from edge_gateway.agent.scheduler import Accumulator
from edge_gateway.core import schema
from edge_gateway.core.backoff import cycles_to_skip
from edge_gateway.core.config import Secret
from edge_gateway.core.model import FieldValue, Reading

log = logging.getLogger(__name__)


class PollError(Exception):
    """One poll of one device failed; chained to the SNMP or deadline error underneath."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What every poller shares: profiles, the hasher for client MACs, section-wide limits."""

    profiles: dict[str, Profile]
    hasher: ClientHasher | None
    section: SnmpSection


def _secret(value: Secret | None) -> str:
    return value.get_secret_value() if value else ""


def credentials_of(device: SnmpDevice) -> Credentials:
    host, port = device.address
    return Credentials(
        host=host,
        port=port,
        timeout_s=device.timeout_s,
        community=_secret(device.community),
        user=device.user or "" if device.version == "3" else "",
        auth_protocol=device.auth_protocol,
        auth_key=_secret(device.auth_key),
        priv_protocol=device.priv_protocol,
        priv_key=_secret(device.priv_key),
    )


def error_text(error: BaseException, answered: bool) -> str:
    """The poll's failure as `device_status.error`. A poll its deadline cut is "deadline exceeded" only
    when the device answered some of it (late: APLate); with no answer at all it was silent (APDown)."""
    if isinstance(error, TimeoutError):
        return "deadline exceeded" if answered else "no answer within the deadline"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class SnmpPoller:
    def __init__(self, device: SnmpDevice, site: str, settings: Settings, limit: asyncio.Semaphore) -> None:
        section = settings.section
        self.device, self.settings, self.limit = device, settings, limit
        self.name = f"snmp[{device.name}]"
        self.interval_s = device.interval_s
        self.deadline_s = device.deadline_s or 0.9 * device.interval_s
        self.backend_name = device.backend or section.backend
        self.clients = device.clients if device.clients is not None else section.clients
        self.tags = {"device": device.name, "site": device.site or site}
        self.profile: Profile | None = None
        if device.profile != "auto":
            self.profile = settings.profiles[device.profile]
        self.link: Link | None = None
        self.model = ""
        self.counters: CounterState = {}
        self.failures = 0
        self.skip_cycles = 0
        self.last_error = ""
        self.max_repetitions = section.max_repetitions
        self.walked: list[str] = []  # columns the last poll walked (what "only what is needed" came to)
        self.capping = False  # tables were cut at the row cap at the last good poll

    def _limits(self) -> tuple[int, int]:
        """(rows per table, requests per poll): the device's, else its profile's, else the defaults."""
        rows = self.profile.max_rows_per_table if self.profile else MAX_ROWS_PER_TABLE
        requests = self.profile.max_requests_per_poll if self.profile else MAX_REQUESTS_PER_POLL
        rows = min(self.device.max_rows_per_table or rows, self.settings.section.max_varbinds_per_walk)
        return rows, self.device.max_requests_per_poll or requests

    def _status(self, fields: dict[str, FieldValue], time_ns: int) -> Reading:
        """`device_status`, with the AP's position from its config for the NOC map."""
        if self.device.lat is not None and self.device.lon is not None:
            fields = {**fields, "lat": self.device.lat, "lon": self.device.lon}
        return Reading(schema.DEVICE_STATUS, {**self.tags, "kind": "snmp"}, fields, time_ns)

    async def collect(self, acc: Accumulator) -> None:
        time_ns = time.time_ns()
        if self.skip_cycles > 0:
            self.skip_cycles -= 1
            fields: dict[str, FieldValue] = {"up": False, "error": f"{self.last_error} (backing off)"}
            acc.add(self._status(fields, time_ns))
            return
        started_s = time.monotonic()
        try:
            async with self.limit, asyncio.timeout(self.deadline_s):
                readings, problems = await self._poll()
        except (SnmpBackendError, TimeoutError, OSError) as exc:
            await self._failed(acc, exc, started_s, time_ns)
            return
        self.failures = 0
        for reading in readings:
            acc.add(reading)
        latency_ms = round((time.monotonic() - started_s) * 1000, 1)
        fields = {"up": True, "latency_ms": latency_ms, "error": "; ".join(problems)}
        fields |= self._spent()
        acc.add(self._status(fields, time_ns))
        acc.add_success(self.name)

    def _spent(self) -> dict[str, FieldValue]:
        """What this poll cost the device, and a log line when tables start or stop being capped."""
        if self.link is None:
            return {"requests": 0, "tables_capped": 0}
        capped = self.link.capped
        if capped and not self.capping:
            log.warning(
                "%s: %d table(s) cut at %d rows (max_rows_per_table)",
                self.name,
                len(capped),
                self.link.max_rows,
            )
        elif self.capping and not capped:
            log.info("%s: tables end within max_rows_per_table again", self.name)
        self.capping = bool(capped)
        return {"requests": self.link.requests, "tables_capped": len(capped)}

    async def _failed(self, acc: Accumulator, exc: BaseException, started_s: float, time_ns: int) -> None:
        requests = self.link.requests if self.link else 0
        answered = self.link.answers > 0 if self.link else False
        await self.close()
        self.failures += 1
        self.last_error = error_text(exc, answered)
        self.skip_cycles = cycles_to_skip(
            self.failures, self.interval_s, self.settings.section.down_backoff_max_s
        )
        latency_ms = round((time.monotonic() - started_s) * 1000, 1)
        fields: dict[str, FieldValue] = {"up": False, "latency_ms": latency_ms, "error": self.last_error}
        fields["requests"] = requests
        acc.add(self._status(fields, time_ns))
        acc.add(Reading(schema.AP, self.tags, {"up": False}, time_ns))
        acc.add_error(self.name, PollError(f"{self.device.host}: {self.last_error}"))

    async def _poll(self) -> tuple[list[Reading], list[str]]:
        if self.link is None:
            backend: SnmpBackend = await open_backend(self.backend_name, credentials_of(self.device))
            self.link = Link(backend, self.max_repetitions, MAX_ROWS_PER_TABLE, self.device.retries)
        self.link.begin_poll(*self._limits())
        if self.profile is None:
            self.profile = await identify(self.link, self.settings.profiles)
            self.link.max_rows, self.link.max_requests = self._limits()
        snapshot = await fetch(self.link, self.profile, self.clients, self.model)
        if self.link.capped:
            snapshot.problems.append(
                f"cut at {self.link.max_rows} rows (max_rows_per_table): {', '.join(self.link.capped)}"
            )
        self.max_repetitions = self.link.max_repetitions
        self.model, self.walked = snapshot.model, list(snapshot.columns)
        readings, self.counters = build(
            self.profile, snapshot, self.tags, self.clients, self.settings.hasher, self.counters
        )
        return readings, snapshot.problems

    async def close(self) -> None:
        """Drop the session (a new one is opened at the next poll, with a fresh v3 engine discovery)."""
        if self.link is not None:
            link, self.link = self.link, None
            await link.backend.close()
