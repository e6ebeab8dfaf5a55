"""The commented example configs in deploy/examples/ are valid, with their secret files in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_gateway.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"


@pytest.mark.parametrize("name", ["edge.toml", "bridge.toml"])
def test_example_config_passes_check_config(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (EXAMPLES / name).read_text().replace("/etc/edge/", f"{tmp_path}/")
    for secret in ("uplink-password", "client-hash-key", "snmp-community", "snmp-auth-key", "snmp-priv-key",
                   "bridge-password", "ca.crt"):  # fmt: skip
        (tmp_path / secret).write_text("a-secret-of-16+chars\n")
    config = tmp_path / name
    config.write_text(text)
    assert main(["check-config", str(config)]) == 0, capsys.readouterr().err
    assert ": ok," in capsys.readouterr().out
