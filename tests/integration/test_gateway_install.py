"""The Pi install: a fresh venv with only `edge-gateway[gateway]` from this tree runs the gateway's
commands (a real `edge probe snmp` against net-snmp's snmpd among them) and carries no NOC,
development or test package: none that the [noc] or [dev] extra or edge-gateway-dev lists (issue 15,
docs/install.md)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import tomllib
import uuid
from pathlib import Path

import pytest

from edge_gateway_dev import servers
from tests.integration.helpers import ROOT, installed_venv

LOADED = (
    "import sys, edge_gateway.cli.main as m; from edge_gateway.agent import agent; m.build_parser('agent'); "
    "print(sorted(n for n in sys.modules if n.startswith(('edge_gateway.noc', 'edge_gateway.bridge', "
    "'edge_gateway.alerts', 'edge_gateway_dev'))))"
)
ONE_POLL_JSON = ["--rate-window-s", "0", "--format", "json"]
# The module each distribution of the [noc] and [dev] extras and of edge-gateway-dev brings (None: a
# stubs package, checked by its distribution only). A requirement missing here fails the test, so a
# new development dependency is checked too.
MODULES: dict[str, str | None] = {
    "grafana-client": "grafana_client",
    "matplotlib": "matplotlib",
    "pyyaml": "yaml",
    "edge-gateway-dev": "edge_gateway_dev",
    "pymodbus": "pymodbus",
    "pynmea2": "pynmea2",
    "import-linter": "importlinter",
    "hypothesis": "hypothesis",
    "jsonschema": "jsonschema",
    "selenium": "selenium",
    "mypy": "mypy",
    "types-pyyaml": None,
    "pytest": "pytest",
    "pytest-asyncio": "pytest_asyncio",
    "pytest-timeout": "pytest_timeout",
    "ruff": "ruff",
    "snmpsim": "snmpsim",
    "tomli-w": "tomli_w",
}
# In the fresh venv: for each distribution name (argv), whether it is installed and whether its module
# (or None) is importable, as JSON.
PRESENT = """import importlib.metadata as md, importlib.util, json, sys
def dist(name):
    try:
        md.distribution(name)
        return True
    except md.PackageNotFoundError:
        return False
pairs = json.loads(sys.argv[1])
print(json.dumps({d: [dist(d), bool(m and importlib.util.find_spec(m))] for d, m in pairs.items()}))
"""


def _name(requirement: str) -> str:
    """The normalised distribution name of a PEP 508 requirement."""
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group()).lower()


def not_for_the_gateway() -> set[str]:
    """Every distribution the [noc] and [dev] extras and edge-gateway-dev list but the gateway's own
    (this package, its dependencies and its [gateway] extra: cryptography is one)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    dev = tomllib.loads((ROOT / "dev" / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {_name(r) for r in [*extras["noc"], *extras["dev"], *dev]} | {"edge-gateway-dev"}
    return names - {_name(r) for r in [*project["dependencies"], *extras["gateway"]]} - {"edge-gateway"}


@pytest.mark.integration
def test_gateway_extra_installs_only_the_gateway(tmp_path: Path) -> None:
    python, edge = installed_venv(tmp_path / "venv", [f"{ROOT}[gateway]"], tmp_path)
    for args in (["--help"], ["agent", "--help"], ["probe", "snmp", "--help"]):
        subprocess.run([edge, *args], check=True, capture_output=True, cwd=tmp_path)
    # a real probe from the gateway's venv: net-snmp's snmpd on loopback, with a sysDescr of this run
    descr = f"edge Pi install check {uuid.uuid4().hex}"
    with servers.snmpd(tmp_path / "snmpd", community="pi-ro", extra_config=f"sysDescr {descr}\n") as agent:
        probed = subprocess.run(
            [edge, "probe", "snmp", f"127.0.0.1:{agent.port}", "--community", "pi-ro", *ONE_POLL_JSON],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
    assert probed.returncode == 0, probed.stderr
    readings = {r["measurement"]: r for r in json.loads(probed.stdout)}
    assert readings["device_status"]["fields"]["up"] is True
    assert readings["ap"]["tags"]["model"] == descr, readings["ap"]  # the model is the agent's sysDescr
    assert readings["ap"]["fields"]["uptime_s"] >= 0
    # a dead device: nothing listens on the UDP port, so the probe says so and exits 1, no traceback
    dead = servers.free_port(socket.SOCK_DGRAM)
    down = subprocess.run(
        [edge, "probe", "snmp", f"127.0.0.1:{dead}", "--timeout-s", "0.5", "--retries", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert down.returncode == 1, down.stderr
    assert f"127.0.0.1:{dead}: no answer: no-snmp: " in down.stderr and "hint: " in down.stderr
    assert "Traceback" not in down.stderr, down.stderr
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
    # no NOC, development or test package: neither as a distribution nor as an importable module
    names = not_for_the_gateway()
    assert names <= MODULES.keys(), f"add the module of {sorted(names - MODULES.keys())} to MODULES"
    asked = json.dumps(
        {name: MODULES[name] for name in sorted(names)} | {"pydantic-settings": "pydantic_settings"}
    )
    found = subprocess.run(
        [python, "-c", PRESENT, asked], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    present = {name: seen for name, seen in json.loads(found.stdout).items() if any(seen)}
    assert present == {}, f"installed on the gateway ([distribution, module]): {present}"
    loaded = subprocess.run([python, "-c", LOADED], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert loaded.stdout.strip() == "[]"
    demo = subprocess.run([edge, "demo", "--duration", "1"], capture_output=True, text=True, cwd=tmp_path)
    assert demo.returncode != 0 and "edge-gateway-dev" in demo.stderr
    export = subprocess.run([edge, "alerts", "export-grafana"], capture_output=True, text=True, cwd=tmp_path)
    assert export.returncode != 0 and "Traceback" not in export.stderr, export.stderr
    assert "edge-gateway[noc]" in export.stderr, export.stderr
