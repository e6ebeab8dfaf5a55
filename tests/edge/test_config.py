from __future__ import annotations

from pathlib import Path

import pytest

from edge_gateway.agent.config import load_agent
from edge_gateway.bridge.config import load_bridge, load_bridge_checked
from edge_gateway.cli.main import main
from edge_gateway.core.config import ConfigError

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
    out = capsys.readouterr().out
    assert (
        "ok, agent config for gateway cbn-gw-01, 2 SNMP devices, 0 serial sensors on 0 buses, 0 cameras"
        in out
    )
    assert main(["check-config", str(write(tmp_path, BROKEN_AGENT, "bad.toml"))]) == 2
    err = capsys.readouterr().err
    assert "8 problem(s)" in err and "buffer.on_full" in err
    assert main(["check-config", str(write(tmp_path, "[gateway\n", "syntax.toml"))]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    garbage = tmp_path / "garbage.toml"
    garbage.write_bytes(b"id = 1\n\xf5\xff\x00 binary")
    assert main(["check-config", str(garbage)]) == 2
    assert "not valid TOML: not UTF-8 text (byte 7)" in capsys.readouterr().err
    assert main(["agent", "-c", str(garbage)]) == 2  # its config child says the same
    assert "not UTF-8 text (byte 7)" in capsys.readouterr().err
    assert main(["check-config", str(tmp_path / "absent.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_an_unknown_vendor_profile_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, GOOD_AGENT.replace('profile = "auto"', 'profile = "cisco-aironet"'))
    assert main(["check-config", str(bad)]) == 2
    assert "cisco-aironet" in capsys.readouterr().err
    assert main(["agent", "-c", str(bad)]) == 2


EVERY_ROUND = """
[gateway]
id = "gw-1"
[uplink]
url = "mqtts://broker.example:8883"
ca_file = "{tmp}/absent-ca.crt"
[status]
listen = "127.0.0.1:99999"
[snmp]
profiles_dir = "{tmp}/profiles"
clients = true
[[snmp.devices]]
name = "ap-1"
host = "10.0.0.1"
version = "3"
interval_s = 0
[[snmp.devices]]
name = "ap-2"
host = "10.0.0.2"
community_file = "{tmp}/absent-community"
[[snmp.devices]]
name = "ap-3"
host = "10.0.0.3"
community = "public"
profile = "cisco"
[[serial.buses]]
name = "bus-1"
port = "/dev/ttyUSB0"
[[serial.buses.sensors]]
name = "s"
driver = "modbus-rtu"
options = {{ slave = 1, map = "xy-md02" }}
[[serial.buses.sensors]]
name = "s"
driver = "modbus-rtu"
options = {{ slave = 2, map = "xy-md02" }}
[[serial.buses.sensors]]
name = "t"
driver = "modbus-rtu"
options = {{ slave = 0, map = "xy-md02" }}
"""


def test_check_config_reports_every_problem_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each of these used to surface only once the ones before it were fixed (up to five rounds)."""
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "mine.toml").write_text(
        'extends = "generic"\n[[scalars]]\nname = "x"\noid = "1.3.6.1.2.1.1.3.0"\nscale = "abc"\n'
    )
    config = write(tmp_path, EVERY_ROUND.format(tmp=tmp_path))
    assert main(["check-config", str(config)]) == 2
    err = capsys.readouterr().err
    expected = [
        f"uplink.ca_file: {tmp_path}/absent-ca.crt: no such file",
        "status.listen: port '99999' is not 1-65535",
        "snmp.devices[0].interval_s:",
        "snmp.devices[0]: version 3 needs user",
        f"snmp.devices[1].community_file: cannot read {tmp_path}/absent-community: No such file",
        "snmp: client readings need client_hash_key",
        "serial.buses[0].sensors[2].options: slave",
        "serial.buses[0]: sensor names must be unique: s",
        f"{tmp_path}/profiles/mine.toml:5: mine.scalars[0].scale: Input should be a valid number (got 'abc')",
        "snmp device ap-3: unknown profile 'cisco'",
    ]
    missing = [line for line in expected if line not in err]
    assert not missing, err
    assert "Traceback" not in err and "10 problem(s)" in err, err
    assert main(["agent", "-c", str(config)]) == 2  # the agent refuses the same file, never a traceback


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('url = "mqtt://127.0.0.1:1883"', 'url = "mqtt://127.0.0.1:70000"',
         "uplink.url: port is not 1-65535"),
        ('url = "mqtt://127.0.0.1:1883"', 'url = "mqtt://127.0.0.1:1883"\ncert_file = "/nonexistent/c.pem"',
         "uplink.cert_file: /nonexistent/c.pem: no such file"),
        ("[buffer]", '[status]\nlisten = "0.0.0.0:9108"\ntoken_file = "/nonexistent/token"\n[buffer]',
         "status.token_file: cannot read /nonexistent/token"),
        ("[buffer]", '[snmp]\nprofiles_dir = "/nonexistent/profiles"\n[buffer]',
         "snmp.profiles_dir: /nonexistent/profiles: no such directory"),
    ],
)  # fmt: skip
def test_files_and_ports_are_checked_up_front(tmp_path: Path, old: str, new: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_agent(write(tmp_path, GOOD_AGENT.replace(old, new)))
    assert problem in "\n".join(caught.value.problems)


def test_bridge_urls_and_rule_files_are_checked_with_the_rest(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[[rule]]\nname = 1\n")
    text = '[influxdb]\nurl = "http://127.0.0.1:99999"\napi = "v2"\n'
    text += f'[alerts]\nalertmanager_url = "http://127.0.0.1:123456"\nrules_path = "{rules}"\n'
    path = write(tmp_path, text, "bridge.toml")
    with pytest.raises(ConfigError) as caught:
        load_bridge_checked(path)
    joined = "\n".join(caught.value.problems)
    assert "influxdb.url: port is not 1-65535" in joined
    assert "influxdb: api v2 needs org, bucket and token" in joined
    assert "alerts.alertmanager_url: port is not 1-65535" in joined
    assert str(rules) in joined  # the rules file's own problems, in the same run
    missing = write(
        tmp_path, '[influxdb]\ndatabase = "edge"\n[alerts]\nrules_path = "/nonexistent.toml"\n', "b2.toml"
    )
    with pytest.raises(ConfigError, match=r"alerts.rules_path: /nonexistent.toml: no such file"):
        load_bridge(missing)
