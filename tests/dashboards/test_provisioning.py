"""Grafana's provisioning files: the YAML we write reads back to the intended structure."""

from __future__ import annotations

import pytest

from edge_gateway.noc import yamltext
from edge_gateway.noc.build import PROVISIONING_DIR
from edge_gateway.noc.model import DATASOURCE_UID
from edge_gateway.noc.provisioning import DATASOURCE_FILE, PROVIDER_FILE, datasource, files, provider
from tests.dashboards import yamlparse


def test_the_yaml_reads_back_as_the_documents() -> None:
    text = files()
    assert yamlparse.load(text[DATASOURCE_FILE]) == datasource()
    assert yamlparse.load(text[PROVIDER_FILE]) == provider()


def test_the_datasource_is_influxql_on_database_edge_with_the_panels_uid() -> None:
    loaded = yamlparse.load((PROVISIONING_DIR / DATASOURCE_FILE).read_text(encoding="utf-8"))
    assert loaded["apiVersion"] == 1
    [source] = loaded["datasources"]
    assert (source["type"], source["uid"], source["url"]) == ("influxdb", DATASOURCE_UID, "${INFLUX_URL}")
    assert source["jsonData"]["dbName"] == "edge"
    assert source["jsonData"]["version"] == "InfluxQL"
    assert source["access"] == "proxy"


def test_the_provider_loads_files_from_the_dashboards_folder() -> None:
    loaded = yamlparse.load((PROVISIONING_DIR / PROVIDER_FILE).read_text(encoding="utf-8"))
    [one] = loaded["providers"]
    assert (one["type"], one["orgId"], one["folder"]) == ("file", 1, "Edge gateway")
    assert one["options"]["path"] == "${EDGE_DASHBOARDS_DIR}"


def test_strings_are_quoted_so_yaml_never_retypes_them() -> None:
    text = yamltext.dump({"a": "yes", "b": "1.0", "c": "x: y # z", "d": [{"e": False, "f": 2.5}]})
    assert yamlparse.load(text) == {"a": "yes", "b": "1.0", "c": "x: y # z", "d": [{"e": False, "f": 2.5}]}
    assert 'a: "yes"' in text


def test_an_unsupported_value_is_refused() -> None:
    with pytest.raises(TypeError):
        yamltext.dump({"a": None})


def test_the_reader_refuses_what_it_does_not_know() -> None:
    with pytest.raises(ValueError):
        yamlparse.load("a: 1\n  b: 2\n")
    with pytest.raises(ValueError):
        yamlparse.load("a: 1\na: 2\n")
