"""Start the real servers the project talks to, on loopback, free high ports and a temporary folder.

Tests and the demo run Mosquitto, InfluxDB 1.x, VictoriaMetrics, Alertmanager and net-snmp's snmpd as
they run in production, not fakes. Each server is a child process in its own session (so a Ctrl-C in
the terminal reaches us, not it, and we stop it in order) that is also told to die with its parent
(PR_SET_PDEATHSIG), so a `kill -9` of the test runner leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# the ports free_port handed out lately: far more than one test holds bound at once
_HANDED_OUT: deque[int] = deque(maxlen=4096)


class ServerError(RuntimeError):
    """A server could not be started or did not become ready; the message carries its log tail."""


@dataclass(frozen=True)
class Server:
    """A running server: where it listens and where its files and log are."""

    name: str
    host: str
    port: int
    workdir: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        scheme = {"mosquitto": "mqtt", "snmpd": "udp"}.get(self.name, "http")
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port that was free on loopback a moment ago (the kernel picks it), and not one this process
    handed out lately: Linux picks a `bind(0)` port at random among about 14,000, so two ports asked
    for before either is bound (a server's two listeners) were the same about once in 14,000 pairs."""
    while True:
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.bind((LOOPBACK, 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.append(port)
            return port


def find_binary(name: str) -> str:
    """Debian installs some servers under /usr/sbin, which is not on every user's PATH."""
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if candidate and Path(candidate).exists():
            return candidate
    raise ServerError(f"{name} is not installed; run `make setup`")


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _tcp_ready(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.5):
        return True
    return False


def _http_ready(port: int, path: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}{path}", timeout=1) as response:
            return 200 <= int(response.status) < 300
    except OSError:
        return False


def _snmp_ready(port: int, community: str) -> bool:
    command = [find_binary("snmpget"), "-v2c", "-c", community, "-t", "0.5", "-r", "0", "-On"]
    command += [f"udp:{LOOPBACK}:{port}", "1.3.6.1.2.1.1.3.0"]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


@contextlib.contextmanager
def _run(
    name: str,
    argv: list[str],
    workdir: Path,
    port: int,
    ready: Callable[[], bool],
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            preexec_fn=_die_with_parent,  # only calls prctl: safe between fork and exec
        )
    server = Server(name, LOOPBACK, port, workdir, process)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready():
            if process.poll() is not None:
                raise ServerError(f"{name} exited with {process.returncode}:\n{_log_tail(log_path)}")
            if time.monotonic() > deadline:
                raise ServerError(f"{name} not ready after {START_TIMEOUT_S} s:\n{_log_tail(log_path)}")
            time.sleep(0.05)
        yield server
    finally:
        stop(server)


def stop(server: Server) -> None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; only ever our own child, by its PID."""
    if server.process.poll() is not None:
        return
    server.process.terminate()
    try:
        server.process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@contextlib.contextmanager
def mosquitto(workdir: Path, extra_config: str = "", port: int = 0) -> Iterator[Server]:
    """Mosquitto 2 with persistence, MQTT 5 capable, anonymous unless `extra_config` says otherwise."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} {LOOPBACK}\n"
        "persistence true\n"
        f"persistence_location {workdir}/\n"
        "log_dest stdout\n"
        "log_type error\nlog_type warning\nlog_type notice\n"
        # A bridge's persistent session must not lose messages queued while InfluxDB is down (the
        # default keeps 1000). Not 0 ("no limit"): Mosquitto 2.0.11 then drops a client whose QoS 1
        # publish it denied.
        "max_queued_messages 1000000\n"
        # As root it would switch to the `mosquitto` user, who cannot read our private temp folder.
        + ("user root\n" if os.geteuid() == 0 else "")
        + ("allow_anonymous true\n" if "allow_anonymous" not in extra_config else "")
        + extra_config
    )
    argv = [find_binary("mosquitto"), "-c", str(conf)]
    with _run("mosquitto", argv, workdir, port, lambda: _tcp_ready(port)) as server:
        yield server


@contextlib.contextmanager
def influxdb(workdir: Path, port: int = 0) -> Iterator[Server]:
    """InfluxDB 1.x (Debian's), HTTP on `port`, RPC on another free port, no usage reporting."""
    port = port or free_port()
    rpc_port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "influxdb.conf"
    conf.write_text(
        f'reporting-disabled = true\nbind-address = "{LOOPBACK}:{rpc_port}"\n'
        f'[meta]\n  dir = "{workdir}/meta"\n'
        f'[data]\n  dir = "{workdir}/data"\n  wal-dir = "{workdir}/wal"\n  query-log-enabled = false\n'
        "[monitor]\n  store-enabled = false\n"
        f'[http]\n  bind-address = "{LOOPBACK}:{port}"\n  log-enabled = false\n'
        "  max-body-size = 0\n"
    )
    argv = [find_binary("influxd"), "-config", str(conf)]
    with _run("influxdb", argv, workdir, port, lambda: _http_ready(port, "/ping")) as server:
        yield server


@contextlib.contextmanager
def victoriametrics(workdir: Path, port: int = 0) -> Iterator[Server]:
    """VictoriaMetrics: a real server for InfluxDB's /api/v2/write (the v2 writer's test peer)."""
    port = port or free_port()
    argv = [
        find_binary("victoria-metrics"),
        f"-httpListenAddr={LOOPBACK}:{port}",
        f"-storageDataPath={workdir}/data",
        "-retentionPeriod=100y",
        "-search.disableCache",
    ]
    with _run("victoriametrics", argv, workdir, port, lambda: _http_ready(port, "/health")) as server:
        yield server


def shipped_alertmanager_config(
    group_wait: str = "30s", group_interval: str | None = None, webhook_url: str | None = None
) -> str:
    """The shipped routing and inhibition (edge_gateway/alerts/alertmanager.yml) with the grouping a
    test or the demo needs; every receiver keeps its name, its endpoints are replaced by a webhook
    to `webhook_url` (None: no endpoint, nobody is notified)."""
    config: dict[str, Any] = yaml.safe_load((files("edge_gateway.alerts") / "alertmanager.yml").read_text())
    config["route"]["group_wait"] = group_wait
    if group_interval is not None:
        config["route"]["group_interval"] = group_interval
    webhook = {"webhook_configs": [{"url": webhook_url, "send_resolved": True}]} if webhook_url else {}
    config["receivers"] = [{"name": receiver["name"], **webhook} for receiver in config["receivers"]]
    return str(yaml.safe_dump(config, sort_keys=False))


@contextlib.contextmanager
def alertmanager(workdir: Path, config_yaml: str | None = None, port: int = 0) -> Iterator[Server]:
    """Prometheus Alertmanager, clustering off (it would otherwise listen on every interface)."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "alertmanager.yml"
    conf.write_text(config_yaml or "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n")
    argv = [
        find_binary("prometheus-alertmanager"),
        f"--config.file={conf}",
        f"--storage.path={workdir}/data",
        f"--web.listen-address={LOOPBACK}:{port}",
        "--cluster.listen-address=",
    ]
    with _run("alertmanager", argv, workdir, port, lambda: _http_ready(port, "/-/ready")) as server:
        yield server


@contextlib.contextmanager
def snmpd(
    workdir: Path, community: str = "public", port: int = 0, extra_config: str = ""
) -> Iterator[Server]:
    """net-snmp's snmpd answering v2c `community` on loopback only, reading no system config."""
    port = port or free_port(socket.SOCK_DGRAM)
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "snmpd.conf"
    conf.write_text(
        f"agentAddress udp:{LOOPBACK}:{port}\n"
        f"rocommunity {community} {LOOPBACK}\n"
        "sysLocation edge-gateway test\nsysContact noc@example.invalid\n" + extra_config
    )
    argv = [find_binary("snmpd"), "-f", "-C", "-c", str(conf), "-Lo", "-p", f"{workdir}/snmpd.pid"]
    # No MIB files: snmpd needs none to answer, and loading Debian's partial set only prints noise.
    env = {"SNMP_PERSISTENT_DIR": str(workdir / "persist"), "MIBS": "", "MIBDIRS": "/nonexistent"}
    with _run("snmpd", argv, workdir, port, lambda: _snmp_ready(port, community), env) as server:
        yield server


@contextlib.contextmanager
def edge_process(args: list[str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m edge_gateway ARGS` (agent, bridge, ...) with its log in `log_path`, as in production: its
    own
    process. SIGTERM when the block ends, which each stops on cleanly; SIGKILL if it does not."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "edge_gateway", *args], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def fleet_process(
    config_out: Path, options: Sequence[str], log_path: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`edge sim fleet --config-out CONFIG_OUT OPTIONS...` in its own process (its CPU stays out of what
    runs beside it), yielded once it has written its agent config; SIGINT at the end, on which it
    unplugs its ports and exits."""
    command = [
        sys.executable,
        "-m",
        "edge_gateway",
        "sim",
        "fleet",
        "--config-out",
        str(config_out),
        *options,
    ]
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(log_path.open("wb")) if log_path else subprocess.DEVNULL
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not config_out.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise ServerError(f"edge sim fleet did not start (exit code {process.poll()})")
                time.sleep(0.1)
            yield process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
