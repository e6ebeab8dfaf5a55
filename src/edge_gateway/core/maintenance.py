"""What counts as maintenance: an Alertmanager silence that `edge maintenance start` created, one
equality matcher on `device` or `site` (src/edge_gateway/agent/maintenance.py). Read by the gateway's
page (src/edge_gateway/agent/status_maintenance.py) and copied for the NOC boards
(src/edge_gateway/noc/maintenance.py). A silence with other matchers (an alert name, a regex)
silences some alerts, not a device, and is not maintenance.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SCOPES = ("device", "site")


@dataclass(frozen=True)
class Maintenance:
    """One active maintenance: what it covers, until when (UTC, ISO 8601) and why."""

    scope: str  # device or site
    name: str
    ends_at: str
    reason: str

    def active(self, now: datetime) -> bool:
        return _moment(self.ends_at) > now


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def from_silences(silences: list[dict[str, Any]]) -> list[Maintenance]:
    """The active single-matcher `device=` / `site=` silences; anything else is skipped."""
    found = []
    for silence in silences:
        if not isinstance(silence, dict):
            continue
        matchers, status = silence.get("matchers"), silence.get("status")
        if not isinstance(status, dict) or status.get("state") != "active":
            continue
        if not isinstance(matchers, list) or len(matchers) != 1 or not isinstance(matchers[0], dict):
            continue
        matcher = matchers[0]
        ends_at = str(silence.get("endsAt", ""))
        try:
            _moment(ends_at)
        except ValueError:
            continue  # not a silence this code can read; Alertmanager always sends one
        if matcher.get("name") in SCOPES and not matcher.get("isRegex") and matcher.get("isEqual", True):
            reason = str(silence.get("comment", "")).removeprefix("maintenance: ")
            found.append(Maintenance(matcher["name"], str(matcher.get("value", "")), ends_at, reason))
    return found


MAX_SILENCES_BYTES = 4 * 2**20
"""Thousands of silences; a bigger answer is not Alertmanager's, and is not read into memory."""


def fetch(alertmanager_url: str, timeout_s: float = 10.0) -> list[Maintenance]:
    """The maintenances Alertmanager holds now; OSError or ValueError when it cannot say."""
    url = alertmanager_url.rstrip("/") + "/api/v2/silences"
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        body = response.read(MAX_SILENCES_BYTES + 1)
    if len(body) > MAX_SILENCES_BYTES:
        raise ValueError(f"the silences are over {MAX_SILENCES_BYTES} bytes: not read")
    silences = json.loads(body)
    if not isinstance(silences, list):
        raise ValueError("the silences are not a JSON list")
    return from_silences(silences)
