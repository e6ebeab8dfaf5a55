"""Panel factories: the handful of panel kinds the dashboards use, with their usual settings.

Kept in one place so every time series draws alike and a change of style is one edit.
"""

from __future__ import annotations

from edge_gateway.noc.model import JSON, Panel, Step, Target, ValueText

UP_DOWN = [ValueText("true", "up", "green"), ValueText("false", "down", "red")]
LEGEND_TABLE: JSON = {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max", "lastNotNull"]}


def timeseries(
    title: str,
    targets: list[Target],
    unit: str = "",
    width: int = 12,
    steps: list[Step] | None = None,
    description: str = "",
    bars: bool = False,
    no_value: str = "",
) -> Panel:
    """Lines (or bars, for counts per interval); with `steps`, the bands are shaded behind the lines.
    `no_value` replaces Grafana's "No data" where nothing is a documented state (docs/schema.md)."""
    custom: JSON = {
        "drawStyle": "bars" if bars else "line",
        "lineWidth": 1,
        "fillOpacity": 60 if bars else 10,
        "spanNulls": False,
        "showPoints": "never",
        "thresholdsStyle": {"mode": "area" if steps else "off"},
    }
    options: JSON = {"legend": LEGEND_TABLE, "tooltip": {"mode": "multi", "sort": "desc"}}
    return Panel(
        "timeseries", title, targets, width=width, unit=unit, steps=steps or [], custom=custom,
        options=options, description=description, no_value=no_value,
    )  # fmt: skip


def stat(
    title: str,
    target: Target,
    unit: str = "",
    width: int = 4,
    steps: list[Step] | None = None,
    mappings: list[ValueText] | None = None,
    description: str = "",
    height: int = 4,
    no_value: str = "",
) -> Panel:
    """One big number (the last non-null value), coloured by its thresholds or mappings."""
    options: JSON = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "background" if steps or mappings else "value",
        "graphMode": "none",
        "textMode": "auto",
        "justifyMode": "auto",
        "orientation": "auto",
    }
    return Panel(
        "stat", title, [target], width=width, height=height, unit=unit, steps=steps or [],
        mappings=mappings or [], color_mode="thresholds", options=options, description=description,
        no_value=no_value,
    )  # fmt: skip


def table(
    title: str,
    target: Target,
    width: int = 12,
    transformations: list[JSON] | None = None,
    mappings: list[ValueText] | None = None,
    description: str = "",
) -> Panel:
    """Rows of the query's table result; mapped values colour their cell."""
    return Panel(
        "table", title, [target], width=width, mappings=mappings or [], color_mode="thresholds",
        custom={"cellOptions": {"type": "color-background" if mappings else "auto"}},
        options={"showHeader": True, "footer": {"show": False}}, description=description,
        transformations=transformations or [],
    )  # fmt: skip


def histogram(title: str, target: Target, unit: str, bucket_size: float, width: int = 12) -> Panel:
    """Distribution of the raw values over the time range (e.g. client signal levels)."""
    options: JSON = {"bucketSize": bucket_size, "combine": True, "legend": {"showLegend": False}}
    return Panel(
        "histogram", title, [target], width=width, unit=unit, options=options, custom={"fillOpacity": 80}
    )


def state_timeline(title: str, target: Target, width: int = 12) -> Panel:
    """Up/down over time, one band per series: outages show as red stretches."""
    options: JSON = {"showValue": "never", "mergeValues": True, "legend": {"showLegend": False}}
    return Panel(
        "state-timeline", title, [target], width=width, mappings=UP_DOWN, color_mode="thresholds",
        custom={"fillOpacity": 80, "lineWidth": 0}, options=options,
    )  # fmt: skip


def only_rows(*conditions: tuple[str, bool | float | str]) -> JSON:
    """A transformation keeping the table rows where any `(field, value)` matches; the value keeps its
    JSON type because Grafana compares loosely and `true == "true"` is false in JavaScript."""
    filters = [
        {"fieldName": name, "config": {"id": "equal", "options": {"value": value}}}
        for name, value in conditions
    ]
    return {"id": "filterByValue", "options": {"type": "include", "match": "any", "filters": filters}}
