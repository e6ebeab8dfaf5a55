"""The one value passed between stages: a Reading (docs/wire-format.md, docs/schema.md).

Collectors produce Readings, the buffer stores them as line protocol, the uplink ships them. Keeping
a single small immutable type between stages is what lets inputs and outputs never see each other.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

FieldValue = float | int | bool | str


@dataclass(frozen=True, slots=True)
class Reading:
    """One measurement of one thing at one instant, in the InfluxDB data model."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time_ns: int = field(default_factory=time.time_ns)

    def with_tags(self, extra: Mapping[str, str]) -> Reading:
        """A copy with `extra` tags added; `extra` wins on a clash (used to stamp the gateway id)."""
        return Reading(self.measurement, {**self.tags, **extra}, self.fields, self.time_ns)
