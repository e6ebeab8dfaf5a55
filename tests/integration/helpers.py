"""Small helpers for integration tests: run `edge` subcommands as processes, query InfluxDB, wait."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
import urllib.request
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]


def outside_env() -> dict[str, str]:
    """This process's environment without what would point a fresh venv's programs at the checkout."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def installed_venv(env_dir: Path, requirements: list[str], cwd: Path) -> tuple[Path, Path]:
    """A fresh virtualenv with `requirements` pip-installed (a path of this tree is built as a wheel and
    copied into site-packages, not linked): its `python` and its `edge`."""
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = ["install", "-q", "--disable-pip-version-check", "--no-compile", *requirements]
    subprocess.run([python, "-m", "pip", *install], check=True, cwd=cwd, env=outside_env())
    return python, env_dir / "bin" / "edge"


def influx_query(url: str, database: str, query: str) -> list[dict[str, Any]]:
    """Series of an InfluxQL query against InfluxDB 1.x (empty list when there are none)."""
    params = urllib.parse.urlencode({"db": database, "q": query, "epoch": "ns"})
    with urllib.request.urlopen(f"{url}/query?{params}", timeout=10) as response:
        body = json.load(response)
    series: list[dict[str, Any]] = []
    for result in body.get("results", []):
        if "database not found" in result.get("error", ""):
            return []  # the bridge creates it when it starts
        if "error" in result:
            raise AssertionError(f"{query}: {result['error']}")
        series.extend(result.get("series", []))
    return series


def wait_for(
    probe: Callable[[], T | None], timeout_s: float, what: str, log_paths: tuple[Path, ...] = ()
) -> T:
    """Poll `probe` until it returns something truthy; fail with `what` and the logs' tails."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    tails = "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in log_paths if p.exists()
    )
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}\n{tails}")
