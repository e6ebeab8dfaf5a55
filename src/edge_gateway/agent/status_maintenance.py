"""Which devices and sites are in maintenance, for the gateway's page: read from Alertmanager.

`edge maintenance start` creates an Alertmanager silence with one matcher, `device=NAME` or
`site=NAME` (src/edge_gateway/agent/maintenance.py). The silence is the one record of the maintenance:
it ends by itself, `edge maintenance end` lifts it, and the page shows exactly what pages nobody. So
the agent, given `[status] alertmanager_url`, reads the active silences every `refresh_s` and the page
marks the devices they cover. Silences with other matchers (an alert name, a regex) silence some
alerts, not a device, and are not shown. Alertmanager unreachable: the last answer is kept (each
silence still ends at its own `endsAt`), the failure logged once until an answer comes again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)
SCOPES = ("device", "site")


@dataclass(frozen=True)
class Maintenance:
    """One active maintenance: what it covers, until when (UTC, ISO 8601) and why."""

    scope: str  # device or site
    name: str
    ends_at: str
    reason: str

    def active(self, now: datetime) -> bool:
        return datetime.fromisoformat(self.ends_at.replace("Z", "+00:00")) > now


def from_silences(silences: list[dict[str, Any]]) -> list[Maintenance]:
    """The active single-matcher `device=` / `site=` silences; anything else is skipped."""
    found = []
    for silence in silences:
        matchers = silence.get("matchers") or []
        if silence.get("status", {}).get("state") != "active" or len(matchers) != 1:
            continue
        matcher = matchers[0]
        if matcher.get("name") in SCOPES and not matcher.get("isRegex") and matcher.get("isEqual", True):
            reason = str(silence.get("comment", "")).removeprefix("maintenance: ")
            found.append(Maintenance(matcher["name"], str(matcher["value"]), str(silence["endsAt"]), reason))
    return found


class MaintenanceWatch:
    """The active maintenances as Alertmanager last said; `of` answers for one device."""

    def __init__(self, alertmanager_url: str, refresh_s: float = 30.0) -> None:
        self.url = alertmanager_url.rstrip("/") + "/api/v2/silences"
        self.refresh_s = refresh_s
        self.known: list[Maintenance] = []
        self.failures = 0

    def _fetch(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(self.url, timeout=10) as response:
            answer: list[dict[str, Any]] = json.load(response)
        return answer

    async def refresh(self) -> None:
        try:
            silences = await asyncio.to_thread(self._fetch)
        except (OSError, ValueError) as exc:
            self.failures += 1
            if self.failures == 1:
                log.warning("maintenance: cannot read Alertmanager's silences: %s", exc)
            return
        if self.failures:
            log.info("maintenance: silences readable again after %d failures", self.failures)
        self.failures = 0
        self.known = from_silences(silences)

    async def run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.refresh_s)

    def of(self, device: str, site: str, now: datetime) -> dict[str, str] | None:
        """The maintenance covering this device (its own first, else its site's), or None."""
        for scope, name in (("device", device), ("site", site)):
            for one in self.known:
                if (one.scope, one.name) == (scope, name) and one.active(now):
                    return {"scope": scope, "until": one.ends_at, "reason": one.reason}
        return None
