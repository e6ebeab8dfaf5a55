"""The city map as Grafana reads it: each layer draws one query's rows, coloured by its `state`.

Grafana cannot run here, so what it would do with the JSON is checked on the JSON: every layer names
a query of the panel and every query is drawn; each query gives `state`, `lat` and `lon`; the
thresholds and value texts turn the three ranks into grey, green and red. What the queries return is
checked on a real InfluxDB (test_queries_influx.py, tests/integration/test_city_map_on_fleet.py).
"""

from __future__ import annotations

from typing import Any

from edge_gateway.noc.build import all_dashboards
from edge_gateway.noc.city_map import DOWN, UNKNOWN, UP
from tests.dashboards.queries import references

MAP = next(
    p for d in all_dashboards() if d.uid == "edge-noc" for p in d.to_json()["panels"] if p["type"] == "geomap"
)


def colour_of(value: float, defaults: dict[str, Any]) -> str:
    """As Grafana picks a threshold colour: the last step whose value is at most `value`."""
    steps = defaults["thresholds"]["steps"]
    return str([s["color"] for s in steps if s["value"] is None or s["value"] <= value][-1])


def test_every_layer_draws_one_query_and_every_query_is_drawn() -> None:
    layers = {layer["filterData"]["options"]: layer for layer in MAP["options"]["layers"]}
    assert sorted(layers) == sorted(t["refId"] for t in MAP["targets"])
    assert {layer["name"] for layer in layers.values()} == {"Access points", "Intersections"}
    for layer in layers.values():
        assert layer["config"]["style"]["color"]["field"] == "state"
        assert layer["location"] == {"mode": "coords", "latitude": "lat", "longitude": "lon"}


def test_each_query_gives_the_state_and_the_position() -> None:
    for target in MAP["targets"]:
        assert target["resultFormat"] == "table"
        outer_select = target["query"].split(" FROM ", 1)[0]
        assert [alias in outer_select for alias in ("AS state", "AS lat", "AS lon")] == [True] * 3
        assert references(target["query"])[0] == {"device_status"}


def test_the_ranks_are_grey_green_and_red_with_their_words() -> None:
    defaults = MAP["fieldConfig"]["defaults"]
    assert MAP["fieldConfig"]["defaults"]["color"]["mode"] == "thresholds"
    colours = {rank: colour_of(rank, defaults) for rank in (UNKNOWN, UP, DOWN)}
    assert colours == {UNKNOWN: "text", UP: "green", DOWN: "red"}
    (mapping,) = defaults["mappings"]
    words = {int(value): option["text"] for value, option in mapping["options"].items()}
    assert words == {UNKNOWN: "not heard from", UP: "up", DOWN: "down"}
