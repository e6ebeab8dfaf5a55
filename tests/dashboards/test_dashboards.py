"""The generated dashboards: committed files up to date, panels well-formed, queries within the schema."""

from __future__ import annotations

from typing import Any

import pytest

from edge_gateway.alerts.rules import load_rules
from edge_gateway.noc.build import PACKAGE_DIR, all_dashboards, rendered
from edge_gateway.noc.intersections import PM10_BREAKPOINTS_UG_M3, PM25_BREAKPOINTS_UG_M3, ispu_steps
from edge_gateway.noc.model import DATASOURCE_UID, GRID_WIDTH, SCHEMA_VERSION
from edge_gateway.noc.provisioning import datasource
from edge_gateway.noc.schema import SCHEMA
from tests.dashboards.fleet_data import city_readings
from tests.dashboards.queries import alias_tags, panel_queries, references, variable_queries

DASHBOARDS = [d.to_json() for d in all_dashboards()]
QUERIES = [q for d in DASHBOARDS for q in (*panel_queries(d), *variable_queries(d))]


def test_committed_files_match_a_fresh_build() -> None:
    """Fails when the code changed and `edge dashboards build` was not run (or the files were edited)."""
    for relative, text in rendered().items():
        path = PACKAGE_DIR / relative
        assert path.exists(), f"{relative} missing: run `edge dashboards build`"
        assert path.read_text(encoding="utf-8") == text, f"{relative} is stale: run `edge dashboards build`"
    committed = {f"json/{p.name}" for p in (PACKAGE_DIR / "json").glob("*.json")}
    assert committed == {name for name in rendered() if name.startswith("json/")}


def test_four_dashboards_with_unique_uids_and_current_schema_version() -> None:
    assert [d["uid"] for d in DASHBOARDS] == [
        "edge-noc",
        "edge-access-point",
        "edge-intersections",
        "edge-fleet",
    ]
    assert {d["schemaVersion"] for d in DASHBOARDS} == {SCHEMA_VERSION}


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=[d["uid"] for d in DASHBOARDS])
def test_panels_have_unique_ids_and_do_not_overlap(dashboard: dict[str, Any]) -> None:
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= GRID_WIDTH, panel["title"]
        area = {
            (x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & area, f"{panel['title']} overlaps another panel"
        cells |= area


def _datasource_uids(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["uid"]] if node.keys() == {"type", "uid"} else []
        return found + [uid for value in node.values() for uid in _datasource_uids(value)]
    if isinstance(node, list):
        return [uid for item in node for uid in _datasource_uids(item)]
    return []


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=[d["uid"] for d in DASHBOARDS])
def test_every_datasource_reference_is_the_provisioned_one(dashboard: dict[str, Any]) -> None:
    uids = _datasource_uids(dashboard)
    targets = sum(len(p["targets"]) for p in dashboard["panels"])
    queried = [v for v in dashboard["templating"]["list"] if v["type"] == "query"]
    annotations = dashboard["annotations"]["list"]
    assert len(uids) == len(dashboard["panels"]) + targets + len(queried) + len(annotations)
    assert set(uids) == {DATASOURCE_UID} == {datasource()["datasources"][0]["uid"]}


@pytest.mark.parametrize("query", QUERIES, ids=[q.id for q in QUERIES])
def test_queries_name_only_measurements_tags_and_fields_of_the_schema(query: Any) -> None:
    measurements, names = references(query.text)
    assert measurements, f'no FROM "measurement" in {query.text}'
    assert measurements <= SCHEMA.keys(), f"unknown measurements {measurements - SCHEMA.keys()}"
    known = set().union(*(SCHEMA[m].tags | SCHEMA[m].fields for m in measurements))
    assert names <= known, f"{query.id}: not in the schema: {names - known}"
    tags = set().union(*(SCHEMA[m].tags for m in measurements))
    assert alias_tags(query.alias) <= tags


def test_the_schema_check_catches_a_misspelt_field() -> None:
    measurements, names = references('SELECT mean("cpu_percent") AS cpu FROM "ap" WHERE "device" = \'x\'')
    assert measurements == {"ap"}
    assert names - SCHEMA["ap"].fields - SCHEMA["ap"].tags == {"cpu_percent"}


def test_the_fixture_writes_every_measurement_within_the_schema() -> None:
    seen: dict[str, set[str]] = {}
    for reading in city_readings(end_ns=10**18):
        assert set(reading.tags) <= SCHEMA[reading.measurement].tags, reading
        assert set(reading.fields) <= SCHEMA[reading.measurement].fields, reading
        seen.setdefault(reading.measurement, set()).update(reading.fields)
    assert seen.keys() == SCHEMA.keys()


def test_ispu_colour_steps_follow_the_breakpoints() -> None:
    pm25 = [(s.color, s.value) for s in ispu_steps(PM25_BREAKPOINTS_UG_M3)]
    # Each band starts at its first value in P.14/2020 (Tidak Sehat is 55.5-150.4: 55.4 is Sedang).
    assert pm25 == [("green", None), ("blue", 15.6), ("yellow", 55.5), ("red", 150.5), ("black", 250.5)]
    assert [s.value for s in ispu_steps(PM10_BREAKPOINTS_UG_M3)][1:] == [51, 151, 351, 421]


def test_air_quality_panels_carry_the_ispu_steps() -> None:
    panels = {p["title"]: p for p in DASHBOARDS[2]["panels"]}
    steps = panels["PM2.5 against the ISPU bands"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["value"] for s in steps] == [None, *PM25_BREAKPOINTS_UG_M3]
    noise = panels["Noise (LAeq) against the legal limits"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["value"] for s in noise] == [None, 55, 70]


def test_boards_and_alerts_share_their_thresholds() -> None:
    """Where a rule alerts, the board turns red (or yellow, for ISPU): the same number, one home."""
    rules = {rule.name: rule for rule in load_rules()}

    def steps(dashboard: int, title: str) -> list[float | None]:
        panel = next(p for p in DASHBOARDS[dashboard]["panels"] if p["title"] == title)
        return [s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]

    assert steps(1, "Temperature")[-1] == rules["HighTemperature"].value == 60
    assert steps(1, "CPU")[-1] == rules["HighCPU"].value
    assert steps(2, "PM2.5 against the ISPU bands")[2] == rules["PM25Unhealthy"].value == 55.5
    noise = rules["NoiseOverLimit"]
    assert steps(2, "Noise (LAeq) against the legal limits")[1:] == [noise.sites["Taman Sutera"], noise.value]


def test_panels_of_quantities_undefined_without_a_station_say_so_instead_of_no_data() -> None:
    """CCQ is absent, not 0, on a radio with no station (docs/schema.md, "Absent fields and zero"):
    at night its panel must read as that documented state, not as a broken query."""
    panels = [p for d in DASHBOARDS for p in d["panels"] if "ccq_pct" in str(p.get("targets"))]
    assert panels
    for panel in panels:
        assert panel["fieldConfig"]["defaults"]["noValue"] == "No station"
        assert "without a station" in panel["description"]


def test_no_alert_summary_shows_a_config_key_instead_of_words() -> None:
    """Summaries reach the on-call's phone and the Grafana export as written: a `frozen_after_s` in
    one (CameraFrozen) read "its picture has not changed for frozen_after_s"."""
    import re

    for rule in load_rules():
        words = re.sub(r"\{[^}]*\}", "", rule.summary)  # the labels filled in at firing time
        assert not re.findall(r"\b[a-z0-9]+_[a-z0-9_]+\b", words), f"{rule.name}: {rule.summary}"
