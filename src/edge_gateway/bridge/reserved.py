"""Names the schema relies on, which a gateway's line may not use in the wrong place.

InfluxQL's `WHERE gateway = 'X'` matches a *field* named `gateway` as readily as the tag, so a single
forged field answers another gateway's queries. So every tag key the dashboards and alerts select on is
reserved as a tag: no line may carry it as a field. Some names belong to the bridge alone (`ingest`
and `alerts` measurements, `bridge`/`alertname`/`severity` tags), and some mean something else to the
database (`time`, names starting with `_` in InfluxDB 2.x/3.x). The lists live in
src/edge_gateway/core/schema.py; docs/schema.md explains them; this module checks them.

The `gateway` tag itself is the bridge's to set: a line may carry it only with the topic's own id
(the agent stamps it); see src/edge_gateway/bridge/ingest.py.
"""

from __future__ import annotations

from edge_gateway.core.lineproto import LineProtocolError
from edge_gateway.core.model import Reading
from edge_gateway.core.schema import BRIDGE_MEASUREMENTS, BRIDGE_TAGS, DATABASE_NAMES, SCHEMA_TAGS

_ALTERNATIVES = "|".join(sorted(SCHEMA_TAGS | DATABASE_NAMES))
# Lookaheads for the fast-path expressions of src/edge_gateway/bridge/ingest.py: a line they accept has
# no reserved name; any other line goes through `check_reading`, which says which rule it breaks.
NOT_RESERVED_FIELD = rf"(?!(?:{_ALTERNATIVES})=|_)"
NOT_RESERVED_TAG = rf"(?!(?:gateway|{'|'.join(sorted(BRIDGE_TAGS | DATABASE_NAMES))})=|_)"
NOT_RESERVED_MEASUREMENT = rf"(?!(?:{'|'.join(sorted(BRIDGE_MEASUREMENTS))})[, ]|_)"


def check_reading(reading: Reading) -> None:
    """Raise LineProtocolError naming the first reserved name the line misuses."""
    if reading.measurement in BRIDGE_MEASUREMENTS or reading.measurement.startswith("_"):
        raise LineProtocolError(f"reserved name: measurement {reading.measurement!r} is the bridge's")
    for key in reading.tags:
        if key in BRIDGE_TAGS or key in DATABASE_NAMES or key.startswith("_"):
            raise LineProtocolError(f"reserved name: tag {key!r}")
    for key in reading.fields:
        if key in SCHEMA_TAGS or key in DATABASE_NAMES or key.startswith("_"):
            raise LineProtocolError(f"reserved name: field {key!r} (a tag of the schema)")
