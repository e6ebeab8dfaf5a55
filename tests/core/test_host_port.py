"""`host:port`: one form in every config and one parser (core.config_checks.split_host_port)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_gateway.bridge.config import load_bridge
from edge_gateway.core.config import ConfigError
from edge_gateway.core.config_checks import split_host_port

BRIDGE = '[influxdb]\napi = "v1"\ndatabase = "edge"\n'


def test_host_and_port() -> None:
    assert split_host_port("10.20.0.12:1161") == ("10.20.0.12", 1161)
    assert split_host_port("gw.local", default_port=161) == ("gw.local", 161)
    assert split_host_port("fe80::1", default_port=161) == ("fe80::1", 161)
    assert split_host_port("127.0.0.1:0", any_port=True) == ("127.0.0.1", 0)


@pytest.mark.parametrize("value", ["127.0.0.1", ":80", "h:0", "h:65536", "h:x"])
def test_what_is_not_host_and_port(value: str) -> None:
    with pytest.raises(ValueError, match="port"):
        split_host_port(value)


def _bridge(tmp_path: Path, bridge: str) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(BRIDGE + bridge)
    return path


def test_the_bridge_listens_on_host_port(tmp_path: Path) -> None:
    assert load_bridge(_bridge(tmp_path, "")).bridge.address == ("127.0.0.1", 9465)
    config = load_bridge(_bridge(tmp_path, '[bridge]\nlisten = "0.0.0.0:0"\n'))
    assert config.bridge.address == ("0.0.0.0", 0)


def test_the_deprecated_listen_host_and_port_are_still_read(tmp_path: Path) -> None:
    config = load_bridge(_bridge(tmp_path, '[bridge]\nlisten_port = 0\nlisten_host = "::1"\n'))
    assert config.bridge.address == ("::1", 0)


def test_a_bad_listen_or_open_data_address_is_named_by_path(tmp_path: Path) -> None:
    text = '[bridge]\nlisten = "127.0.0.1:99999"\n[alerts]\nopen_data_listen = "0.0.0.0"\n'
    with pytest.raises(ConfigError) as caught:
        load_bridge(_bridge(tmp_path, text))
    assert [problem.split(":")[0] for problem in caught.value.problems] == [
        "bridge.listen",
        "alerts.open_data_listen",
    ]
