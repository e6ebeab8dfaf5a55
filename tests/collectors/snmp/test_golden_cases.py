"""Every profile's golden cases: the walk in the case folder, polled once, gives exactly expected.lp.

A profile change that changes readings fails here until the case is regenerated
(`.venv/bin/python -m tests.collectors.snmp.golden`), so the change of readings is in the review's diff.
Recorded walks of real devices are read from outside the tree; their cases skip where those are absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_gateway.agent.collectors.snmp.profile import load_profiles
from tests.collectors.snmp.golden import (
    CASES_DIR,
    RECORDED,
    SIMULATED,
    case_dirs,
    poll_walk,
    read_snmprec,
    simulated_walk,
    walk_of,
)
from tests.collectors.snmp.walks import WALKS_ABSENT


@pytest.mark.parametrize("case", case_dirs(), ids=lambda case: f"{case.parent.name}/{case.name}")
def test_a_walk_gives_the_expected_readings(case: Path) -> None:
    walk = walk_of(case)
    if case.parent.name == RECORDED and not walk.parent.is_dir():
        pytest.skip(WALKS_ABSENT)
    profile, lines = poll_walk(read_snmprec(walk), case.name)
    assert profile == (case / "profile").read_text().strip()
    assert lines == (case / "expected.lp").read_text().splitlines()


def test_every_profile_has_a_case() -> None:
    with_cases = {path.parent.parent.name for path in CASES_DIR.glob("*/*/walk.snmprec")}
    assert set(load_profiles()) <= with_cases


@pytest.mark.parametrize("vendor", list(SIMULATED))
def test_the_case_walks_are_what_the_simulators_serve(vendor: str) -> None:
    """The walks in the tree are the simulators' at the fixed instant: a simulator change that the
    cases do not show fails here (regenerate them)."""
    walks = list(CASES_DIR.glob(f"*/sim-{vendor}/walk.snmprec"))
    assert len(walks) == 1
    assert walks[0].read_text() == simulated_walk(vendor)


def test_controllers_report_each_ap_under_the_controller() -> None:
    """Ruckus ZD and Huawei AC: per-AP `managed_ap` rows and per-radio rows carry the AP as tag `ap`,
    and the controller's own `ap` point (one per device, as for any AP) adds up the APs' clients."""
    for case in ("ruckus-zd/sim-ruckus-zd", "huawei-ac/sim-huawei-ac"):
        lines = (CASES_DIR / case / "expected.lp").read_text().splitlines()
        per_ap = [line for line in lines if line.startswith("managed_ap,ap=")]
        radios = [line for line in lines if line.startswith("ap_radio,ap=")]
        controller = next(line for line in lines if line.startswith("ap,"))
        assert sum(line.startswith("ap,") for line in lines) == 1
        assert len(per_ap) == 3 and len(radios) == 6
        total = sum(int(line.split("clients=")[1].split("i")[0]) for line in per_ap)
        assert f"clients={total}i" in controller
