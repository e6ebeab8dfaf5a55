"""`edge fleet` with a bad config, key or pushed file: exit 2 naming each problem, before any broker is
asked (the broker URLs below answer nothing), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_gateway.bridge.fleet_sign import keygen
from edge_gateway.cli.main import EXIT_BAD_CONFIG, main

BRIDGE = '[mqtt]\nurl = "mqtt://127.0.0.1:1"\n[influxdb]\nurl = "http://127.0.0.1:1"\ndatabase = "edge"\n'


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def test_a_bad_bridge_config_names_every_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('[mqtt]\nurl = "mqtt://127.0.0.1:1"\nbogus = 1\n')
    code, err = _run(["fleet", "status", "-c", str(config)], capsys)
    assert code == EXIT_BAD_CONFIG
    assert "mqtt.bogus: unknown key" in err and "influxdb: missing" in err, err


@pytest.mark.parametrize("command", [["push", "--gateways", "gw-1", "PUSHED"], ["probe", "gw-1", "ap-1"]])
def test_signing_needs_a_usable_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    pushed = tmp_path / "edge.toml"
    pushed.write_text('[gateway]\nid = "gw-1"\n')
    argv = ["fleet", *(str(pushed) if a == "PUSHED" else a for a in command), "-c"]
    unset, garbage = tmp_path / "unset.toml", tmp_path / "garbage.toml"
    unset.write_text(BRIDGE)
    (tmp_path / "garbage.key").write_bytes(b"\x00not a key")
    garbage.write_text(f'{BRIDGE}[fleet]\nkey_file = "{tmp_path / "garbage.key"}"\n')
    missing = tmp_path / "missing.toml"
    missing.write_text(f'{BRIDGE}[fleet]\nkey_file = "{tmp_path / "nowhere.key"}"\n')
    for config, problem in [
        (unset, "fleet.key_file: not set"),
        (garbage, "not an unencrypted Ed25519 private key"),
        (missing, "fleet.key_file: cannot read"),
    ]:
        code, err = _run([*argv, str(config)], capsys)
        assert (code, problem in err) == (EXIT_BAD_CONFIG, True), err


def test_a_pushed_file_that_is_not_toml_is_refused_before_signing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keygen(tmp_path / "noc.key", tmp_path / "noc.pub")
    config = tmp_path / "bridge.toml"
    config.write_text(f'{BRIDGE}[fleet]\nkey_file = "{tmp_path / "noc.key"}"\n')
    binary, broken = tmp_path / "binary.toml", tmp_path / "broken.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    broken.write_text("[gateway\n")
    for pushed, problem in [(binary, "not valid TOML: not UTF-8 text (byte 0)"), (broken, "not valid TOML")]:
        code, err = _run(["fleet", "push", "--gateways", "gw-1", str(pushed), "-c", str(config)], capsys)
        assert (code, f"{pushed}: {problem}" in err) == (EXIT_BAD_CONFIG, True), err
