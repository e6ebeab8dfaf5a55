"""A small typed model of Grafana dashboards, rendered to the JSON Grafana 10/11 provisions.

Dashboards are written as code so a query is reviewed like code and the committed JSON can be
regenerated and compared in a test; a typed model (instead of large dict literals) keeps every panel
the same shape and lets the tests walk panels and queries without knowing Grafana's JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 39
GRID_WIDTH = 24
DATASOURCE_UID = "edge-influxdb"
DATASOURCE_TYPE = "influxdb"
DATASOURCE_NAME = "Edge InfluxDB"

JSON = dict[str, Any]


def datasource_ref() -> JSON:
    """Every panel, target and variable names the provisioned data source by its fixed uid."""
    return {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}


@dataclass(frozen=True)
class Step:
    """One colour step: values from `value` up (None: from minus infinity) get `color`."""

    color: str
    value: float | None = None

    def to_json(self) -> JSON:
        return {"color": self.color, "value": self.value}


@dataclass(frozen=True)
class Target:
    """One raw InfluxQL query of a panel; `alias` may use `$tag_NAME` and `$col`."""

    query: str
    ref_id: str = "A"
    alias: str = ""
    result_format: str = "time_series"  # or "table"

    def to_json(self) -> JSON:
        out: JSON = {
            "datasource": datasource_ref(),
            "query": self.query,
            "rawQuery": True,
            "refId": self.ref_id,
            "resultFormat": self.result_format,
        }
        if self.alias:
            out["alias"] = self.alias
        return out


@dataclass(frozen=True)
class ValueText:
    """Show `value` (as Grafana prints it, e.g. "true") as `text` in `color`."""

    value: str
    text: str
    color: str


@dataclass
class Panel:
    """One panel; `options` and `custom` carry the few panel-type specific settings."""

    type: str
    title: str
    targets: list[Target]
    width: int = 12
    height: int = 8
    unit: str = ""
    description: str = ""
    steps: list[Step] = field(default_factory=list)
    mappings: list[ValueText] = field(default_factory=list)
    color_mode: str = "palette-classic"
    no_value: str = ""  # shown instead of "No data", e.g. "0" for a count that matched nothing
    options: JSON = field(default_factory=dict)
    custom: JSON = field(default_factory=dict)
    transformations: list[JSON] = field(default_factory=list)

    def field_defaults(self) -> JSON:
        defaults: JSON = {"color": {"mode": self.color_mode}, "custom": self.custom}
        if self.unit:
            defaults["unit"] = self.unit
        if self.no_value:
            defaults["noValue"] = self.no_value
        steps = self.steps or [Step("green")]
        defaults["thresholds"] = {"mode": "absolute", "steps": [s.to_json() for s in steps]}
        if self.mappings:
            options = {m.value: {"text": m.text, "color": m.color} for m in self.mappings}
            defaults["mappings"] = [{"type": "value", "options": options}]
        else:
            defaults["mappings"] = []
        return defaults

    def to_json(self, panel_id: int, x: int, y: int) -> JSON:
        return {
            "id": panel_id,
            "type": self.type,
            "title": self.title,
            "description": self.description,
            "datasource": datasource_ref(),
            "gridPos": {"h": self.height, "w": self.width, "x": x, "y": y},
            "targets": [t.to_json() for t in self.targets],
            "fieldConfig": {"defaults": self.field_defaults(), "overrides": []},
            "options": self.options,
            "transformations": self.transformations,
        }


@dataclass(frozen=True)
class Variable:
    """A template variable filled from an InfluxQL `SHOW TAG VALUES` query."""

    name: str
    label: str
    query: str
    multi: bool = False
    include_all: bool = False

    def to_json(self) -> JSON:
        return {
            "name": self.name,
            "label": self.label,
            "type": "query",
            "datasource": datasource_ref(),
            "query": self.query,
            "definition": self.query,
            "refresh": 2,  # on time range change: new devices appear without a reload
            "sort": 1,
            "multi": self.multi,
            "includeAll": self.include_all,
            "current": {},
            "options": [],
            "regex": "",
            "hide": 0,
        }


@dataclass(frozen=True)
class Choice:
    """A template variable with a fixed list of values, the first one the default (`custom` in
    Grafana): a setting the viewer may change, such as how recent "up" must be."""

    name: str
    label: str
    values: tuple[str, ...]
    description: str = ""

    def to_json(self) -> JSON:
        options = [{"text": v, "value": v, "selected": i == 0} for i, v in enumerate(self.values)]
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "type": "custom",
            "query": ",".join(self.values),
            "current": {"text": self.values[0], "value": self.values[0]},
            "options": options,
            "multi": False,
            "includeAll": False,
            "hide": 0,
        }


@dataclass(frozen=True)
class Annotation:
    """Marks on every time axis from an InfluxQL query; its `text` column is what hovering shows."""

    name: str
    query: str
    colour: str

    def to_json(self) -> JSON:
        return {
            "name": self.name,
            "datasource": datasource_ref(),
            "enable": True,
            "hide": False,
            "iconColor": self.colour,
            "query": self.query,
            "textColumn": "text",
        }


@dataclass
class Dashboard:
    """A dashboard: panels are placed on Grafana's 24-unit grid and numbered in order."""

    uid: str
    title: str
    description: str
    panels: list[Panel]
    variables: Sequence[Variable | Choice] = field(default_factory=list)
    tags: tuple[str, ...] = ("edge",)
    refresh: str = "30s"
    time_from: str = "now-6h"
    annotations: Sequence[Annotation] = ()

    def layout(self) -> list[JSON]:
        """Place each panel as high as it fits, then as far left: what Grafana's own gravity would do,
        so a tall map can have small panels stacked beside it."""
        placed: list[JSON] = []
        skyline = [0] * GRID_WIDTH  # the lowest free y of each grid column
        for panel_id, panel in enumerate(self.panels, start=1):
            starts = range(GRID_WIDTH - panel.width + 1)
            y, x = min((max(skyline[x : x + panel.width]), x) for x in starts)
            placed.append(panel.to_json(panel_id, x, y))
            skyline[x : x + panel.width] = [y + panel.height] * panel.width
        return placed

    def to_json(self) -> JSON:
        return {
            "id": None,
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "timezone": "browser",
            "editable": True,
            "graphTooltip": 1,
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "refresh": self.refresh,
            "time": {"from": self.time_from, "to": "now"},
            "annotations": {"list": [a.to_json() for a in self.annotations]},
            "templating": {"list": [v.to_json() for v in self.variables]},
            "panels": self.layout(),
        }
