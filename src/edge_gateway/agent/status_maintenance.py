"""Which devices and sites are in maintenance, for the gateway's page: read from Alertmanager.

`edge maintenance start` creates an Alertmanager silence with one matcher, `device=NAME` or
`site=NAME` (src/edge_gateway/agent/maintenance.py). The silence is the one record of the maintenance:
it ends by itself, `edge maintenance end` lifts it, and the page shows exactly what pages nobody. So
the agent, given `[status] alertmanager_url`, reads the active silences every `refresh_s` and the page
marks the devices they cover. Silences with other matchers (an alert name, a regex) silence some
alerts, not a device, and are not shown. Alertmanager unreachable: the last answer is kept (each
silence still ends at its own `endsAt`), the failure logged once until an answer comes again. Each
read runs in a daemon thread of its own, not asyncio's default executor, which is joined when the
agent stops: an Alertmanager that answers a byte at a time would hold the stop for as long as it
trickles.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from datetime import datetime

from edge_gateway.core.maintenance import Maintenance, fetch

log = logging.getLogger(__name__)


async def _detached(url: str) -> list[Maintenance]:
    """`fetch(url)` in a daemon thread: the agent awaits it, its stop never does."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[list[Maintenance]] = loop.create_future()

    def settle(result: list[Maintenance], error: Exception | None) -> None:
        if answer.done():
            return
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(result)

    def work() -> None:
        result: list[Maintenance] = []
        error: Exception | None = None
        try:
            result = fetch(url)
        except Exception as exc:  # handed to the awaiting task, which decides
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: the agent stopped meanwhile
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name="maintenance-fetch", daemon=True).start()
    return await answer


class MaintenanceWatch:
    """The active maintenances as Alertmanager last said; `of` answers for one device."""

    def __init__(self, alertmanager_url: str, refresh_s: float = 30.0) -> None:
        self.url = alertmanager_url
        self.refresh_s = refresh_s
        self.known: list[Maintenance] = []
        self.failures = 0

    async def refresh(self) -> None:
        try:
            known = await _detached(self.url)
        except (OSError, ValueError) as exc:
            self.failures += 1
            if self.failures == 1:
                log.warning("maintenance: cannot read Alertmanager's silences: %s", exc)
            return
        if self.failures:
            log.info("maintenance: silences readable again after %d failures", self.failures)
        self.failures = 0
        self.known = known

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
