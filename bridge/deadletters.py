"""The dead-letter store: an append-only JSON-lines file of what could not be stored, and why.

Each record is `{"time_s", "topic", "reason", "payload"}` (payload: the whole message when the message
itself is unusable, else the one refused line), for a human to look at or replay. Bad input is logged
once per gateway and kind, not per message: a broken gateway sending thousands of bad batches must not
flood the log; the counts are in `/metrics` and the `ingest` measurement.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)


class DeadLetters:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._logged: set[tuple[str, str]] = set()

    def add(self, topic: str, records: Iterable[tuple[str, str]]) -> int:
        """Append (reason, payload) records of one topic; return how many."""
        now_s = round(time.time(), 3)
        lines = [
            json.dumps({"time_s": now_s, "topic": topic, "reason": reason, "payload": payload}) + "\n"
            for reason, payload in records
        ]
        if lines:
            with self.path.open("a", encoding="utf-8") as file:
                file.writelines(lines)
        return len(lines)

    def log_once(self, who: str, kind: str, detail: str) -> None:
        """Log the first occurrence of a kind of bad input per gateway (`who`); later ones are counted."""
        if (who, kind) in self._logged:
            return
        self._logged.add((who, kind))
        log.warning(
            "%s from %s, dead-lettered to %s: %s (further ones from %s are only counted)",
            kind,
            who,
            self.path,
            detail,
            who,
        )
