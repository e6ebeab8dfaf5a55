"""The agent's config checked in a short-lived child process, so the running agent never imports
pydantic (issue 15: pydantic's validation machinery is 12 MB of a 40 MiB budget on a Pi).

At start, on SIGHUP and for a remote configuration, the agent runs
`python -m edge_gateway.agent.config_child FILE`: the child validates FILE exactly as
`edge check-config` does (agent/config.py `check_agent`, with the `EDGE_...` environment it
inherits) and writes either the validated config and its SNMP vendor profiles, pickled, with exit
status 0, or every problem as a JSON list with status 2. The pickle comes only from this child, over
its own pipe; nothing from the network is unpickled. The child costs its memory for the second it
runs, not for the weeks the agent does.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_gateway.agent.config import AgentConfig
from edge_gateway.core.config import ConfigError

CHILD_TIMEOUT_S = 120.0
"""A Pi Zero imports pydantic in about 5 s; a hung child must not hold a reload forever."""


@dataclass(frozen=True)
class CheckedConfig:
    """A config as the agent runs it: validated, with the vendor profiles its devices use."""

    config: AgentConfig
    profiles: dict[str, Any]


def check_in_child(path: Path, timeout_s: float = CHILD_TIMEOUT_S) -> CheckedConfig:
    """`path` checked by a child process; ConfigError with every problem when it is refused."""
    command = [sys.executable, "-m", "edge_gateway.agent.config_child", str(path)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ConfigError([f"{path}: the config check took over {timeout_s:.0f} s"]) from exc
    if done.returncode == 0:
        checked = pickle.loads(done.stdout)
        if isinstance(checked, CheckedConfig):
            return checked
    if done.returncode == 2:
        problems = json.loads(done.stdout)
        raise ConfigError([str(problem) for problem in problems])
    tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
    raise ConfigError([f"{path}: the config check failed (exit {done.returncode}): {' | '.join(tail)}"])


def main(argv: list[str]) -> int:
    from edge_gateway.agent.config import check_agent
    from edge_gateway.agent.config_child import CheckedConfig as Checked  # by its name, not __main__'s

    if len(argv) != 1:
        print("usage: python -m edge_gateway.agent.config_child FILE", file=sys.stderr)
        return 64
    try:
        config, profiles = check_agent(Path(argv[0]))
    except ConfigError as exc:
        sys.stdout.write(json.dumps(exc.problems))
        return 2
    sys.stdout.buffer.write(pickle.dumps(Checked(config, profiles), protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
