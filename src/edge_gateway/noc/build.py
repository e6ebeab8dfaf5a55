"""Render every dashboard to JSON and write them, with the provisioning files, into the package.

The committed files are what Grafana loads; a test rebuilds them and fails when they are stale.
"""

from __future__ import annotations

import json
from pathlib import Path

from edge_gateway.alerts.grafana import provisioning_text
from edge_gateway.alerts.rules import load_rules
from edge_gateway.noc import access_point, fleet, intersections, noc, provisioning
from edge_gateway.noc.model import Dashboard

PACKAGE_DIR = Path(__file__).resolve().parent
PROVISIONING_DIR = PACKAGE_DIR / "provisioning"


def all_dashboards() -> list[Dashboard]:
    return [noc.build(), access_point.build(), intersections.build(), fleet.build()]


def render(dashboard: Dashboard) -> str:
    """Stable text: sorted keys and a final newline, so a rebuild of unchanged code is byte-identical."""
    return json.dumps(dashboard.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered() -> dict[str, str]:
    """Every generated file by its path relative to the package folder."""
    out = {f"json/{d.uid}.json": render(d) for d in all_dashboards()}
    out.update({f"provisioning/{name}": text for name, text in provisioning.files().items()})
    out["provisioning/alerting/edge-alerts.yaml"] = provisioning_text(load_rules())
    return out


def write_all(out_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Write the generated files under `out_dir` (default: the package itself) and list them."""
    written = []
    for relative, text in rendered().items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
