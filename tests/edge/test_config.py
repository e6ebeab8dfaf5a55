from __future__ import annotations

from pathlib import Path

import pytest

from edge.cli import main
from edge.config import ConfigError, load_agent, load_bridge

GOOD_AGENT = """
[gateway]
id = "cbn-gw-01"
site = "Alun-alun Kejaksan"
[uplink]
url = "mqtt://127.0.0.1:1883"
[buffer]
path = "/tmp/edge-test/buffer.db"
max_bytes = 536870912
[[snmp.devices]]
name = "ap-kejaksan-1"
host = "10.20.0.11"
version = "2c"
community = "public"
profile = "auto"
interval_s = 30
[[snmp.devices]]
name = "ap-kejaksan-2"
host = "10.20.0.12:1161"
version = "3"
user = "noc"
auth_protocol = "sha"
auth_key = "authpass123"
priv_protocol = "aes"
priv_key = "privpass123"
"""

BROKEN_AGENT = """
[gateway]
id = "bad id!"
sitee = "typo"
[uplink]
url = "http://broker"
keepalive_s = "often"
[buffer]
max_bytes = 10
on_full = "explode"
[[snmp.devices]]
name = "ap-1"
host = "10.0.0.1:99999"
community = "public"
[[snmp.devices]]
name = "ap-2"
host = "10.0.0.2"
version = "3"
"""


def write(tmp_path: Path, text: str, name: str = "edge.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_agent_config_loads_with_defaults(tmp_path: Path) -> None:
    config = load_agent(write(tmp_path, GOOD_AGENT))
    assert config.gateway.id == "cbn-gw-01"
    assert config.uplink.port == 1883 and not config.uplink.tls
    assert config.snmp.devices[0].address == ("10.20.0.11", 161)
    assert config.snmp.devices[1].address == ("10.20.0.12", 1161)
    assert config.buffer.on_full == "drop_oldest"
    assert config.snmp.devices[1].priv_key is not None
    assert config.snmp.devices[1].priv_key.get_secret_value() == "privpass123"


def test_every_problem_is_named_by_its_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_agent(write(tmp_path, BROKEN_AGENT))
    paths = [problem.split(":")[0] for problem in caught.value.problems]
    assert paths == [
        "gateway.id",
        "gateway.sitee",
        "uplink.url",
        "uplink.keepalive_s",
        "buffer.max_bytes",
        "buffer.on_full",
        "snmp.devices[0].host",
        "snmp.devices[1]",
    ]
    text = "\n".join(caught.value.problems)
    assert "gateway.sitee: unknown key" in text
    assert "snmp.devices[1]: version 3 needs user" in text


def test_missing_section_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_agent(write(tmp_path, "[uplink]\nurl = 'mqtt://h'\n"))
    assert caught.value.problems == ["gateway: missing (required)"]


def test_secrets_are_never_echoed(tmp_path: Path) -> None:
    text = GOOD_AGENT.replace('priv_key = "privpass123"', "priv_key = 12345678")
    text = text.replace('community = "public"', 'community = ["s3cret-community"]')
    with pytest.raises(ConfigError) as caught:
        load_agent(write(tmp_path, text))
    joined = "\n".join(caught.value.problems)
    assert "snmp.devices[0].community" in joined
    assert "s3cret" not in joined and "12345678" not in joined


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGE_UPLINK__URL", "mqtts://broker.example:8883")
    monkeypatch.setenv("EDGE_GATEWAY__SITE", "Pelabuhan")
    config = load_agent(write(tmp_path, GOOD_AGENT))
    assert config.uplink.url == "mqtts://broker.example:8883" and config.uplink.tls
    assert config.gateway.site == "Pelabuhan"
    assert config.gateway.id == "cbn-gw-01"  # untouched keys keep the file's value


def test_bad_environment_value_is_reported_by_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGE_BUFFER__MAX_BYTES", "lots")
    with pytest.raises(ConfigError) as caught:
        load_agent(write(tmp_path, GOOD_AGENT))
    assert caught.value.problems[0].startswith("buffer.max_bytes:")


def test_secret_from_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from-a-file\n")
    assert load_agent(write(tmp_path, GOOD_AGENT)).uplink.password is None
    text = GOOD_AGENT.replace(
        'url = "mqtt://127.0.0.1:1883"', f'url = "mqtt://127.0.0.1:1883"\npassword_file = "{tmp_path}/pw"'
    )
    config = load_agent(write(tmp_path, text))
    assert config.uplink.password is not None
    assert config.uplink.password.get_secret_value() == "from-a-file"


def test_unreadable_secret_file_and_both_forms_are_errors(tmp_path: Path) -> None:
    text = GOOD_AGENT.replace('community = "public"', f'community_file = "{tmp_path}/absent"')
    with pytest.raises(ConfigError) as caught:
        load_agent(write(tmp_path, text))
    assert "community_file" in caught.value.problems[0]
    text = GOOD_AGENT.replace(
        'community = "public"', f'community = "x"\ncommunity_file = "{tmp_path}/absent"'
    )
    with pytest.raises(ConfigError) as caught:
        load_agent(write(tmp_path, text))
    assert "either community or community_file" in caught.value.problems[0]


def test_bridge_config_needs_what_its_api_needs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_bridge(write(tmp_path, '[influxdb]\nurl = "http://127.0.0.1:8086"\napi = "v2"\norg = "x"\n'))
    assert caught.value.problems == ["influxdb: api v2 needs org, bucket and token (or token_file)"]
    config = load_bridge(write(tmp_path, '[influxdb]\napi = "v1"\ndatabase = "edge"\n', "bridge.toml"))
    assert config.mqtt.share_group == "edge-bridge"


def test_check_config_exit_codes_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(write(tmp_path, GOOD_AGENT))]) == 0
    assert "ok, agent config for gateway cbn-gw-01, 2 SNMP devices" in capsys.readouterr().out
    assert main(["check-config", str(write(tmp_path, BROKEN_AGENT, "bad.toml"))]) == 2
    err = capsys.readouterr().err
    assert "8 problem(s)" in err and "buffer.on_full" in err
    assert main(["check-config", str(write(tmp_path, "[gateway\n", "syntax.toml"))]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["check-config", str(tmp_path / "absent.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_an_unknown_vendor_profile_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, GOOD_AGENT.replace('profile = "auto"', 'profile = "cisco-aironet"'))
    assert main(["check-config", str(bad)]) == 2
    assert "cisco-aironet" in capsys.readouterr().err
    assert main(["agent", "-c", str(bad)]) == 2
