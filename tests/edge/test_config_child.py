"""The running agent's config comes from a child process (agent/config_child.py): the same verdict as
`edge check-config`, the environment included, and the vendor profiles with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_gateway.agent.config import check_agent
from edge_gateway.agent.config_child import check_in_child
from edge_gateway.core.config import ConfigError
from tests.edge.test_config import BROKEN_AGENT, GOOD_AGENT, write


def test_the_child_returns_what_check_config_validates(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_AGENT)
    config, profiles = check_agent(path)
    checked = check_in_child(path)
    assert checked.config == config
    assert checked.config.snmp.devices[1].auth_key is not None
    assert checked.config.snmp.devices[1].auth_key.get_secret_value() == "authpass123"
    assert sorted(checked.profiles) == sorted(profiles) and "mikrotik" in checked.profiles


def test_the_child_refuses_with_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN_AGENT)
    with pytest.raises(ConfigError) as in_process:
        check_agent(path)
    with pytest.raises(ConfigError) as in_child:
        check_in_child(path)
    assert in_child.value.problems == in_process.value.problems
    assert len(in_child.value.problems) >= 8


def test_the_child_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGE_GATEWAY__SITE", "Pelabuhan")
    monkeypatch.setenv("EDGE_SIM_CLOCK", "2026-12-02T03:00:00+07:00")  # not a config key: ignored
    assert check_in_child(write(tmp_path, GOOD_AGENT)).config.gateway.site == "Pelabuhan"


def test_an_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        check_in_child(tmp_path / "absent.toml")
    assert caught.value.problems == [f"{tmp_path / 'absent.toml'}: cannot read: No such file or directory"]
