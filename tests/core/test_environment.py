"""`EDGE_<SECTION>__<KEY>` variables over a config file (core.config.with_environment), as the
bridge loads its file (core.validation.load_config)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_gateway.bridge.config import load_bridge
from edge_gateway.core.config import ConfigError, with_environment

SECTIONS = frozenset({"influxdb", "bridge", "log_level"})


def test_variables_naming_a_top_level_key_are_laid_over_the_file() -> None:
    data = {"influxdb": {"url": "http://file:8086", "database": "edge"}}
    environ = {
        "EDGE_INFLUXDB__URL": "http://env:8086",
        "edge_bridge__listen": "0.0.0.0:0",
        "EDGE_LOG_LEVEL": "debug",
        "EDGE_FLEET__EXPECTED": '["gw-1"]',
        "EDGE_SIM_CLOCK": "2026-12-02T03:00:00+07:00",
        "EDGE_INFLUXDB__": "an empty key",
        "PATH": "/usr/bin",
    }
    merged = with_environment(data, SECTIONS | {"fleet"}, environ)
    assert merged == {
        "influxdb": {"url": "http://env:8086", "database": "edge"},
        "bridge": {"listen": "0.0.0.0:0"},
        "log_level": "debug",
        "fleet": {"expected": ["gw-1"]},
    }
    assert data["influxdb"]["url"] == "http://file:8086"  # the file's values are left as read


def test_the_bridge_takes_its_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text('[influxdb]\nurl = "http://file:8086"\napi = "v1"\ndatabase = "edge"\n')
    monkeypatch.setenv("EDGE_INFLUXDB__URL", "http://127.0.0.1:18086")
    monkeypatch.setenv("EDGE_INFLUXDB__PASSWORD", "from-env")
    monkeypatch.setenv("EDGE_BRIDGE__BATCH_MAX_POINTS", "250")
    monkeypatch.setenv("EDGE_SIM_CLOCK", "2026-12-02T03:00:00+07:00")
    config = load_bridge(path)
    assert config.influxdb.url == "http://127.0.0.1:18086"
    assert config.influxdb.password is not None and config.influxdb.password.get_secret_value() == "from-env"
    assert config.bridge.batch_max_points == 250


def test_a_bad_or_unknown_key_from_the_environment_is_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text('[influxdb]\napi = "v1"\ndatabase = "edge"\n')
    monkeypatch.setenv("EDGE_INFLUXDB__TIMEOUT_S", "-1")
    monkeypatch.setenv("EDGE_BRIDGE__LISTEN_PROT", "9000")
    with pytest.raises(ConfigError) as caught:
        load_bridge(path)
    assert caught.value.problems == [
        "influxdb.timeout_s: Input should be greater than 0 (got '-1')",
        "bridge.listen_prot: unknown key",
    ]
