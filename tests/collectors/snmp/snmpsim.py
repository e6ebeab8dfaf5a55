"""snmpsim (PyPI) replaying recorded walks on a loopback port: the community picks the walk by name.

Two workarounds, both from /work/shared/device-walks/README.md: snmpsim refuses root without an
explicit process user (given as root itself here, so files in pytest's private tmp stay readable),
and its one import of `pysmi` (only to print a version) is satisfied by a stand-in module, since
the snmpsim wheel does not declare that dependency.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from edge_gateway_dev import servers

LAUNCHER = """
import sys, types
sys.modules["pysmi"] = types.SimpleNamespace(__version__="not installed")
from snmpsim.commands.responder import main
sys.argv[0] = "snmpsim-command-responder"
sys.exit(main())
"""


@contextlib.contextmanager
def snmpsim(workdir: Path, walks: list[Path]) -> Iterator[servers.Server]:
    data, cache = workdir / "data", workdir / "cache"
    data.mkdir(parents=True, exist_ok=True)
    cache.mkdir(exist_ok=True)
    for walk in walks:
        shutil.copy(walk, data / walk.name)
    port = servers.free_port(socket.SOCK_DGRAM)
    argv = [sys.executable, "-c", LAUNCHER, f"--data-dir={data}", f"--cache-dir={cache}"]
    argv += [
        f"--agent-udpv4-endpoint={servers.LOOPBACK}:{port}",
        "--process-user=root",
        "--process-group=root",
    ]
    community = walks[0].stem
    with servers._run("snmpsim", argv, workdir, port, lambda: servers._snmp_ready(port, community)) as server:
        yield server
