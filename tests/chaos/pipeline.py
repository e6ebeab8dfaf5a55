"""The whole pipeline on loopback for one chaos scenario, with handles to break each part.

Simulated fleet (shared by the scenarios) -> `edge agent -c` -> TCP proxy (the gateway's backhaul) ->
Mosquitto -> `edge bridge -c` (one or two) -> HTTP proxy -> InfluxDB 1.x. Every part can be stopped,
killed, frozen or started again at the same port and folder; at the end `account` waits for the data
and counts it end to end (see ledger.py) into one printed line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from edge_gateway_dev import servers
from tests.bridge.feed import bridge_config
from tests.chaos.ledger import Ledger, duplicates, per_device, stored_keys
from tests.chaos.proxies import InfluxProxy, Key, Loop, TcpProxy
from tests.integration.helpers import wait_for

T = TypeVar("T", servers.Server, subprocess.Popen[bytes])

GATEWAY = "chaos-gw"
REPORT: list[str] = []  # one line per scenario, printed again in pytest's summary (conftest.py)


def outage_s(default_s: float) -> float:
    """The scenario's outage: short by default (enough to prove the point), EDGE_CHAOS_OUTAGE_S for longer."""
    return float(os.environ.get("EDGE_CHAOS_OUTAGE_S", default_s))


class Part(Generic[T]):
    """A server or process that a scenario stops, kills or freezes and starts again, same port and folder."""

    def __init__(self, start: Callable[[int], AbstractContextManager[T]]) -> None:
        self._start: Callable[[int], AbstractContextManager[T]] = start
        self._cm: AbstractContextManager[T] | None = None
        self.current: T | None = None
        self.starts = 0

    def start(self) -> T:
        assert self._cm is None, "already running"
        self.starts += 1
        cm = self._start(self.starts)
        self.current = cm.__enter__()
        self._cm = cm
        return self.current

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self.current is not None, "not running"
        return self.current.process if isinstance(self.current, servers.Server) else self.current

    def stop(self) -> None:
        """Stop cleanly (SIGTERM, as systemd does); a no-op if it is not running."""
        if self._cm is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGCONT)  # a frozen process could not stop
            cm, self._cm = self._cm, None
            cm.__exit__(None, None, None)

    def kill(self) -> None:
        """`kill -9`: no clean-up of any kind."""
        self.process.kill()
        self.process.wait()
        self.stop()

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """SIGSTOP for the block: the process holds its sockets and answers nothing."""
        os.kill(self.process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.process.pid, signal.SIGCONT)


@dataclass
class Report:
    scenario: str
    produced: int
    stored: int
    lost: int
    duplicated: int
    drain_s: float | None  # None where nothing drains (the buffer alone)
    extra: str = ""

    def line(self) -> str:
        drain = "n/a" if self.drain_s is None else f"{self.drain_s:.1f}"
        return (
            f"{self.scenario} produced={self.produced} stored={self.stored} lost={self.lost} "
            f"duplicated={self.duplicated} drain_s={drain}" + (f" {self.extra}" if self.extra else "")
        )

    def publish(self) -> None:
        """Print the line (seen with -s) and keep it for the summary at the end of the run."""
        print(self.line())
        REPORT.append(self.line())


class Pipeline:
    def __init__(
        self,
        tmp: Path,
        fleet_config: str,
        bridges: int = 1,
        buffer_toml: str = "",
        buffer_dir: Path | None = None,
    ) -> None:
        self.tmp = tmp
        self.loop = Loop()
        self.stack = contextlib.ExitStack()
        self.stack.callback(self.loop.close)
        self._broker_port, self._influx_port = servers.free_port(), servers.free_port()
        self.broker = self._part(lambda n: servers.mosquitto(tmp / "mosquitto", port=self._broker_port))
        self.influx = self._part(lambda n: servers.influxdb(tmp / "influxdb", port=self._influx_port))
        try:
            self.broker.start()
            self.influx.start()
            self.link = TcpProxy(self.loop, self._broker_port)
            self.stack.callback(self.link.close)
            self.influx_proxy = InfluxProxy(self.loop, f"http://127.0.0.1:{self._influx_port}")
            self.stack.callback(self.influx_proxy.close)
            self.ledger = Ledger((buffer_dir or tmp) / "buffer.db")
            self.status_port = servers.free_port()
            self.agent_config = tmp / "edge.toml"
            self.agent_config.write_text(self._agent_toml(fleet_config, buffer_toml))
            self.agent = self._part(
                lambda n: servers.edge_process(
                    ["agent", "-c", str(self.agent_config)], tmp / f"agent-{n}.log"
                )
            )
            self.bridges = [self._bridge(index + 1) for index in range(bridges)]
        except BaseException:
            self.stack.close()
            raise

    def _part(self, start: Callable[[int], AbstractContextManager[T]]) -> Part[T]:
        part = Part(start)
        self.stack.callback(part.stop)
        return part

    def _agent_toml(self, fleet_config: str, buffer_toml: str) -> str:
        """The fleet's agent config, pointed at this scenario's link and buffer, quick to reconnect;
        `buffer_toml`: more keys of its [buffer] section."""
        text = fleet_config.replace("PLACEHOLDER-BROKER", f"127.0.0.1:{self.link.port}")
        text = text.replace("/PLACEHOLDER/buffer.db", str(self.ledger.path))
        uplink = "reconnect_max_s = 2\nbatch_max_readings = 50\nkeepalive_s = 5\nconnect_timeout_s = 5\n"
        text = text.replace("[uplink]\n", "[uplink]\n" + uplink, 1)
        text = text.replace("[buffer]\n", "[buffer]\n" + buffer_toml, 1)
        return f'log_level = "info"\n{text}\n[status]\nlisten = "127.0.0.1:{self.status_port}"\n'

    def _bridge(self, index: int) -> Part[subprocess.Popen[bytes]]:
        conf = self.tmp / f"bridge-{index}.toml"
        influx = f'url = "{self.influx_proxy.url}"\napi = "v1"\ndatabase = "edge"\ntimeout_s = 2'
        broker = self.broker.current
        assert broker is not None
        bridge_config(
            conf, broker, influx, f"bridge-{index}", extra_bridge_toml="\n[alerts]\nenabled = false"
        )
        return self._part(
            lambda n: servers.edge_process(["bridge", "-c", str(conf)], self.tmp / f"bridge-{index}-{n}.log")
        )

    def logs(self) -> tuple[Path, ...]:
        return tuple(sorted(self.tmp.glob("*.log")))

    def close(self) -> None:
        self.stack.close()

    # --- observations -----------------------------------------------------------------------------

    def agent_metrics(self) -> str:
        """The agent's /metrics page; empty while it does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.status_port}/metrics", timeout=2) as answer:
                return str(answer.read().decode())
        except OSError:
            return ""

    def agent_metric(self, name: str) -> float:
        """One unlabelled figure of the agent's /metrics; -1 while the agent does not answer."""
        for line in self.agent_metrics().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return -1.0

    def agent_alive(self) -> bool:
        return bool(self.agent_metrics())

    def agent_connected(self) -> bool:
        return "\nedge_uplink_up 1\n" in self.agent_metrics()

    def stored(self) -> set[Key] | None:
        measurements = {key[0] for key in self.ledger.keys.values()}
        return stored_keys(f"http://127.0.0.1:{self._influx_port}", GATEWAY, measurements)

    def all_stored(self, up_to_id: int) -> bool:
        self.ledger.refresh()
        stored = self.stored()
        return stored is not None and set(self.ledger.window(up_to_id).values()) <= stored

    def delivered_stored(self) -> bool:
        """Every reading the agent has deleted from its buffer (on PUBACK 0x00) is in InfluxDB; the
        readings it still holds are not asked for. Exact only while the agent gets no PUBACK."""
        last = self.ledger.refresh()
        held = self.ledger.held()
        delivered = {key for row_id, key in self.ledger.window(last).items() if row_id not in held}
        stored = self.stored()
        return stored is not None and delivered <= stored

    def wait_flowing(self, timeout_s: float = 60.0) -> None:
        """Until readings go all the way through: a few poll cycles of every device stored."""

        def flowing() -> bool:
            last = self.ledger.refresh()
            devices = per_device(self.ledger.keys.values())
            devices.pop("gateway", None)  # the agent's own health comes every 10 s: not waited for
            return len(devices) > 1 and min(devices.values()) >= 3 and self.all_stored(last)

        wait_for(flowing, timeout_s, "readings stored end to end", self.logs())

    # --- accounting ---------------------------------------------------------------------------------

    def account(
        self,
        scenario: str,
        healed_at_s: float,
        timeout_s: float = 90.0,
        extra: str = "",
        drain_s: float | None = None,
    ) -> Report:
        """Wait until what the agent accepted up to now is stored; count it; print and keep the line.

        drain_s: from `healed_at_s` (monotonic: the end of the fault) until every reading accepted
        before that moment is stored, unless the scenario measured it itself (`drain_s`).
        """
        healed_id = self.ledger.refresh()
        deadline_s = time.monotonic() + timeout_s
        while not self.all_stored(healed_id) and time.monotonic() < deadline_s:
            time.sleep(0.25)
        if drain_s is None:
            drain_s = time.monotonic() - healed_at_s
        window_id = self.ledger.refresh()
        while not self.all_stored(window_id) and time.monotonic() < deadline_s:
            time.sleep(0.25)
        window = self.ledger.window(window_id)
        stored = self.stored() or set()
        missing = {row_id: key for row_id, key in window.items() if key not in stored}
        written = self.influx_proxy.points_written()
        report = Report(
            scenario,
            produced=len(window),
            stored=len(window) - len(missing),
            lost=len(missing),
            duplicated=duplicates(written, window.values()),
            drain_s=drain_s,
            extra=extra,
        )
        report.publish()
        assert not missing, self._explain(window, missing)
        self._check_seqs()
        return report

    def _explain(self, window: dict[int, Key], missing: dict[int, Key]) -> str:
        batches = self.ledger.batches()
        lost_seqs = sorted(seq for seq, ids in batches.items() if any(i in missing for i in ids))
        produced = per_device(window.values())
        lost = per_device(missing.values())
        by_device = ", ".join(f"{name}: {lost[name]} of {produced[name]}" for name in sorted(lost))
        tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in self.logs())
        more = "..." if len(lost_seqs) > 20 else ""
        return (
            f"{len(missing)} of {len(window)} accepted readings not in InfluxDB;"
            f" lost per device: {by_device}; batches (seq) that carried them: {lost_seqs[:20]}{more}\n{tails}"
        )

    def _check_seqs(self) -> None:
        """The buffer numbered its batches without a hole, across every restart."""
        seqs = sorted(self.ledger.batches())
        assert seqs == list(range(seqs[0], seqs[-1] + 1)), "the agent's batch numbers (seq) have holes"


@contextlib.contextmanager
def pipeline(
    tmp: Path, fleet_config: str, bridges: int = 1, buffer_toml: str = "", buffer_dir: Path | None = None
) -> Iterator[Pipeline]:
    """Every part started and flowing; everything stopped at the end, whatever happened."""
    pipe = Pipeline(tmp, fleet_config, bridges, buffer_toml, buffer_dir)
    try:
        for bridge in pipe.bridges:
            bridge.start()
        pipe.agent.start()
        pipe.wait_flowing()
        yield pipe
    finally:
        pipe.close()
