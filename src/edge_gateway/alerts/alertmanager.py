"""Sends alerts to Prometheus Alertmanager's v2 API: fired, re-sent while active, resolved.

Alertmanager forgets an alert whose `endsAt` has passed, so an active alert is re-sent every
`resend_s` with `endsAt` a few periods ahead: if the bridge dies, its alerts resolve by themselves
instead of staying up forever. A resolved alert is sent once with `endsAt` = now. An alert whose
gateway we cannot see now stays active (missing data is not a resolution) with the annotation
`state: unknown`; the others say `state: firing`.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence

import aiohttp

from edge_gateway.alerts.engine import Alert

log = logging.getLogger(__name__)

RESEND_S = 60.0


def _iso(timestamp_s: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp_s, datetime.UTC).isoformat().replace("+00:00", "Z")


def payload(
    firing: Sequence[Alert], resolved: Sequence[Alert], now_s: float, resend_s: float
) -> list[dict[str, object]]:
    """The JSON body of POST /api/v2/alerts."""
    body: list[dict[str, object]] = []
    for alert, ends_s in [(a, now_s + 3 * resend_s) for a in firing] + [(a, now_s) for a in resolved]:
        body.append(
            {
                "labels": alert.label_map,
                "annotations": {
                    "summary": alert.summary,
                    "state": "unknown" if alert.unknown else "firing",
                },
                "startsAt": _iso(alert.starts_at_s),
                "endsAt": _iso(ends_s),
            }
        )
    return body


class AlertmanagerClient:
    def __init__(self, url: str, session: aiohttp.ClientSession, resend_s: float = RESEND_S) -> None:
        self.url = url.rstrip("/") + "/api/v2/alerts"
        self.session = session
        self.resend_s = resend_s
        self._failing = False

    async def send(self, firing: Sequence[Alert], resolved: Sequence[Alert], now_s: float) -> bool:
        """POST the alerts; False (logged once per outage) when Alertmanager could not take them."""
        if not firing and not resolved:
            return True
        try:
            body = payload(firing, resolved, now_s, self.resend_s)
            async with self.session.post(
                self.url, json=body, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                if response.status >= 300:
                    raise aiohttp.ClientResponseError(
                        response.request_info,
                        (),
                        status=response.status,
                        message=(await response.text())[:200],
                    )
        except (aiohttp.ClientError, TimeoutError) as exc:
            if not self._failing:
                log.warning(
                    "Alertmanager at %s unavailable: %s; alerts are re-sent when it is back", self.url, exc
                )
            self._failing = True
            return False
        if self._failing:
            log.info("Alertmanager at %s reachable again", self.url)
        self._failing = False
        return True
