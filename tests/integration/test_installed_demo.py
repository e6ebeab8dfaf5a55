"""`edge demo` from installed packages (issue 15): a fresh venv with `edge-gateway[gateway,noc]` and
`edge-gateway-dev` installed from wheels, run outside the checkout. The demo must run the pipeline end
to end, and every file it uses (dashboards, provisioning, alert rules, Alertmanager routing) must come
from the venv's site-packages: a path computed from the source tree, or a data file missing from a
wheel, passes tests/integration/test_demo.py (editable install, run in the checkout) and fails here."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.integration.helpers import ROOT, installed_venv, outside_env

# Where the installed packages take their data from, asked of the venv's interpreter.
LOCATIONS = (
    "import json, edge_gateway_dev.demo as d, edge_gateway.alerts.rules as r, edge_gateway_dev.servers as s;"
    "from importlib.resources import files;"
    "print(json.dumps({'demo': d.__file__, 'servers': s.__file__, 'rules': str(r.DEFAULT_RULES),"
    " 'alertmanager': str(files('edge_gateway.alerts') / 'alertmanager.yml')}))"
)


@pytest.mark.integration
@pytest.mark.timeout(600)  # the install resolves some 50 packages from the mirror: a minute or two
def test_demo_runs_from_the_installed_packages(tmp_path: Path) -> None:
    env_dir, cwd = tmp_path / "venv", tmp_path / "cwd"
    cwd.mkdir()
    env = outside_env()
    python, edge = installed_venv(env_dir, [f"{ROOT}[gateway,noc]", str(ROOT / "dev")], cwd)
    site_packages = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, check=True, cwd=cwd, env=env,
        ).stdout.strip()
    )  # fmt: skip
    located = subprocess.run([python, "-c", LOCATIONS], capture_output=True, text=True, cwd=cwd, env=env)
    assert located.returncode == 0, located.stderr
    for name, path in json.loads(located.stdout).items():
        assert Path(path).is_file() and Path(path).is_relative_to(site_packages), f"{name}: {path}"

    summary_path = tmp_path / "summary.json"
    command = [str(edge), "demo", "--duration", "20", "--summary-json", str(summary_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=cwd, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert str(ROOT) not in result.stdout + result.stderr
    dashboards = Path(re.findall(r"EDGE_DASHBOARDS_DIR=(\S+)", result.stdout)[0])
    provisioning = Path(re.findall(r"give a Grafana the files in (\S+)", result.stdout)[0])
    assert dashboards.is_relative_to(site_packages) and provisioning.is_relative_to(site_packages)
    assert len(list(dashboards.glob("*.json"))) >= 4
    for kind in ("dashboards", "datasources", "alerting"):
        assert list((provisioning / kind).glob("*.yaml")), kind
    # the pipeline ran: fleet -> agent -> Mosquitto -> bridge -> InfluxDB, and the bridge's alert rules
    summary = json.loads(summary_path.read_text())
    points = summary["points_per_measurement"]
    assert points["device_status"] >= 40 and points["ap"] > 0 and points["camera"] > 0
    assert points["gateway"] >= 1 and points["ingest"] >= 1 and points.get("air_quality", 0) > 0
    assert "CameraDown:cbn-int-06-cam-1" in summary["alerts_fired"]  # nothing answers on its RTSP port
    report = Path(summary["report_html"])
    assert report.is_file() and 'id="map"' in report.read_text()
