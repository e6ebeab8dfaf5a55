"""The Pi install: a fresh venv with only `edge-gateway[gateway]` from this tree runs the gateway's
commands and carries no NOC, development or test package (issue 15, docs/install.md)."""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOADED = (
    "import sys, edge_gateway.cli.main as m; from edge_gateway.agent import agent; m.build_parser('agent'); "
    "print(sorted(n for n in sys.modules if n.startswith(('edge_gateway.noc', 'edge_gateway.bridge', "
    "'edge_gateway.alerts', 'edge_gateway_dev'))))"
)


@pytest.mark.integration
def test_gateway_extra_installs_only_the_gateway(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python, edge = env_dir / "bin" / "python", env_dir / "bin" / "edge"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"{ROOT}[gateway]"],
        check=True,
        cwd=tmp_path,
    )
    for args in (["--help"], ["agent", "--help"], ["probe", "snmp", "--help"]):
        subprocess.run([edge, *args], check=True, capture_output=True, cwd=tmp_path)
    # the example config, with its secret files in place (as in tests/edge/test_example_configs.py)
    config = tmp_path / "edge.toml"
    config.write_text(
        (ROOT / "deploy" / "examples" / "edge.toml").read_text().replace("/etc/edge/", f"{tmp_path}/")
    )
    for secret in (
        "uplink-password",
        "client-hash-key",
        "snmp-community",
        "snmp-auth-key",
        "snmp-priv-key",
        "ca.crt",
    ):
        (tmp_path / secret).write_text("a-secret-of-16+chars\n")
    checked = subprocess.run([edge, "check-config", config], capture_output=True, text=True, cwd=tmp_path)
    assert checked.returncode == 0 and ": ok," in checked.stdout, checked.stderr
    for absent in ("edge_gateway_dev", "pytest", "grafana_client", "pymodbus"):
        probe = subprocess.run([python, "-c", f"import {absent}"], capture_output=True, cwd=tmp_path)
        assert probe.returncode != 0, f"{absent} is installed on the gateway"
    loaded = subprocess.run([python, "-c", LOADED], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert loaded.stdout.strip() == "[]"
    demo = subprocess.run([edge, "demo", "--duration", "1"], capture_output=True, text=True, cwd=tmp_path)
    assert demo.returncode != 0 and "edge-gateway-dev" in demo.stderr
