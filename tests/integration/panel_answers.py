"""Ask a dashboard's panel, by its title, what it shows: its query as Grafana would send it, the rows
flattened with their tags, for the truth checks of tests/integration/test_dashboards_on_fleet.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge_gateway.noc.build import all_dashboards
from tests.dashboards.queries import substitute
from tests.integration.helpers import influx_query

DASHBOARDS = {d.uid: d.to_json() for d in all_dashboards()}
# Half a minute of data: Grafana's $__interval for a range that short is seconds, not a minute.
INTERVAL = "5s"

Row = dict[str, Any]


def _key(dashboard: dict[str, Any], panel: dict[str, Any]) -> str:
    """The panel's title; a title the board repeats (a stat and a graph of one quantity) gets the
    later panels' type appended: `Uptime`, `Uptime (timeseries)`."""
    title = str(panel["title"])
    first = next(p for p in dashboard["panels"] if p["title"] == title)
    return title if first is panel else f"{title} ({panel['type']})"


def panel_titles() -> list[tuple[str, str]]:
    """(dashboard uid, panel key) of every panel of every built dashboard."""
    return [(uid, _key(d, p)) for uid, d in DASHBOARDS.items() for p in d["panels"]]


@dataclass(frozen=True)
class Panels:
    influx_url: str

    def query(self, uid: str, title: str, ref: str = "A") -> str:
        board = DASHBOARDS[uid]
        panel = next(p for p in board["panels"] if _key(board, p) == title)
        return str(next(t["query"] for t in panel["targets"] if t["refId"] == ref))

    def rows(self, uid: str, title: str, ref: str = "A", **variables: str) -> list[Row]:
        """Every row of every series, with the series' tags as columns; nulls kept."""
        text = substitute(self.query(uid, title, ref), variables).replace("time(1m)", f"time({INTERVAL})")
        out = []
        for series in influx_query(self.influx_url, "edge", text):
            for values in series.get("values", []):
                row = dict(series.get("tags") or {})
                row.update(zip(series["columns"], values, strict=True))
                out.append(row)
        return out

    def one(self, uid: str, title: str, column: str, ref: str = "A", **variables: str) -> Any:
        """The single value a stat shows (None when it shows nothing)."""
        rows = [r for r in self.rows(uid, title, ref, **variables) if r.get(column) is not None]
        assert len(rows) <= 1, f"{uid} / {title}: more than one value: {rows}"
        return rows[0][column] if rows else None

    def by(self, key: str, uid: str, title: str, ref: str = "A", **variables: str) -> dict[str, Row]:
        """Rows keyed by a tag (one row each)."""
        rows = self.rows(uid, title, ref, **variables)
        keyed = {str(r[key]): r for r in rows}
        assert len(keyed) == len(rows), f"{uid} / {title}: several rows per {key}: {rows}"
        return keyed

    def points(self, column: str, uid: str, title: str, **variables: str) -> dict[str, list[float]]:
        """A time series panel's non-null values per series (keyed by its tags' values)."""
        out: dict[str, list[float]] = {}
        for row in self.rows(uid, title, **variables):
            name = ",".join(str(v) for k, v in sorted(row.items()) if k not in {"time", column})
            if row.get(column) is not None:
                out.setdefault(name, []).append(float(row[column]))
        return out
