"""The buffer's disk full: the agent never exits, drops only by its policy and counts it, drains, resumes.

The buffer lives on a small tmpfs the test mounts (as root, as CI runs); a ballast file takes the
free space while the gateway's link is cut, so the buffer can neither grow nor drain. The agent is
restarted once on the full disk: it must come up and drain. Then the space comes back.

The policy is `drop_newest`: a reading that finds no room is refused before it is committed, so every
reading the buffer did commit must reach InfluxDB, strictly, while the refused ones are counted in
`edge_buffer_dropped_total`. (With `drop_oldest`, committed readings are deleted to make room, which
the end-to-end count could only check against the total.)
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.pipeline import Pipeline, outage_s, pipeline
from tests.integration.helpers import wait_for

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs for the buffer needs root"),
]

DISK_BYTES = 8 << 20
LEFT_FREE_BYTES = 64 << 10
RESUMED_READINGS = 200  # accepted after the space came back: collection goes on


@contextlib.contextmanager
def small_disk(where: Path) -> Iterator[Path]:
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill(disk: Path) -> Path:
    """A ballast file over all the free space but LEFT_FREE_BYTES, which the buffer then takes."""
    ballast = disk / "ballast"
    stat = os.statvfs(disk)
    with ballast.open("wb") as file:
        file.write(b"\0" * max(stat.f_bavail * stat.f_frsize - LEFT_FREE_BYTES, 0))
    return ballast


def dropped(pipe: Pipeline) -> int:
    """The agent's own count of readings dropped by its policy; -1 while it does not answer."""
    return int(pipe.agent_metric("edge_buffer_dropped_total"))


def test_disk_full_agent_keeps_running_drains_and_resumes(tmp_path: Path, fleet_config: str) -> None:
    full_s = outage_s(5.0)
    with (
        small_disk(tmp_path / "disk") as disk,
        pipeline(tmp_path, fleet_config, buffer_toml='on_full = "drop_newest"\n', buffer_dir=disk) as pipe,
    ):
        pipe.link.cut()
        ballast = fill(disk)
        wait_for(lambda: dropped(pipe) > 0, 60, "readings refused on the full disk", pipe.logs())
        time.sleep(full_s)  # collecting on a full disk: the input
        assert pipe.agent.process.poll() is None, "the agent exited on a full disk"
        pipe.agent.stop()
        pipe.agent.start()  # on an already-full disk
        wait_for(pipe.agent_alive, 30, "the agent up on the full disk", pipe.logs())
        pipe.link.heal()  # draining frees room inside the buffer
        healed_s = time.monotonic()
        healed_id = pipe.ledger.refresh()
        wait_for(lambda: pipe.all_stored(healed_id), 60, "the backlog drained off the full disk", pipe.logs())
        drain_s = time.monotonic() - healed_s
        ballast.unlink()
        resumed_from = pipe.ledger.refresh()
        wait_for(
            lambda: pipe.ledger.refresh() > resumed_from + RESUMED_READINGS,
            30,
            "collection resumed",
            pipe.logs(),
        )
        refused = dropped(pipe)
        pipe.account(
            "disk_full_restart_on_full_disk",
            healed_s,
            drain_s=drain_s,
            extra=f"full_s={full_s:g} refused_by_policy={refused}",
        )
    for log in pipe.logs():
        if log.name.startswith("agent-"):
            warnings = [line for line in log.read_text().splitlines() if "full" in line.lower()]
            assert len(warnings) <= 2, f"{log.name} logs the full disk more than once an episode: {warnings}"
