"""`edge dashboards maintenance`: copy the maintenances Alertmanager holds into InfluxDB for the boards.

Grafana's boards read InfluxDB, and the one record of a maintenance is its Alertmanager silence
(src/edge_gateway/core/maintenance.py). Run every minute (deploy/systemd/edge-maintenance.timer),
this writes one `maintenance` point per active maintenance: tags `scope` and `device`
or `site`, fields `until` (UTC, ISO 8601) and `reason`. The overview's *In maintenance now* reads
what the last two minutes hold, so a lifted or ended silence leaves the board within two runs, and a
stopped timer empties the panel rather than showing stale maintenance.
"""

from __future__ import annotations

from edge_gateway.core import schema
from edge_gateway.core.maintenance import Maintenance
from edge_gateway.core.model import Reading

FRESH = "time > now() - 2m"  # two runs of the timer


def readings(maintenances: list[Maintenance], time_ns: int) -> list[Reading]:
    return [
        Reading(
            schema.MAINTENANCE,
            {"scope": m.scope, m.scope: m.name},
            {"until": m.ends_at, "reason": m.reason},
            time_ns,
        )
        for m in maintenances
    ]
