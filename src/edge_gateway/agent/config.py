"""The agent's configuration (`edge agent -c edge.toml`): its sections, their defaults and checks.

The sections are frozen dataclasses (core/config.py): the running agent holds them without importing
pydantic. `load_agent` validates a file; `check_agent` also loads the SNMP vendor profiles its devices
name, in the same list of problems: `edge check-config` runs it, and the agent runs it in a child at
start, on SIGHUP and for a remote configuration (agent/config_child.py), so all refuse the same
files. The `[snmp]`, `[serial]`, `[camera]` and `[remote_config]` sections are defined next to their
code (collectors/snmp, collectors/serial, collectors/camera, remote_config.py). The settings base
(environment overrides, problems listed by path) is core.config; the bridge's configuration is
bridge/config.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt, Le

from edge_gateway.agent.collectors.camera.config import CameraSection
from edge_gateway.agent.collectors.serial.config import SerialSection
from edge_gateway.agent.collectors.snmp.config import SnmpSection
from edge_gateway.agent.remote_config import RemoteConfigSection
from edge_gateway.core.config import (
    NAME_PATTERN,
    Check,
    ConfigError,
    Doc,
    MqttConnection,
    Pattern,
    Secret,
    Section,
    read_toml,
)
from edge_gateway.core.config_checks import (
    LOOPBACK_HOSTS,
    Checks,
    host_port,
    split_host_port,
)


def status_token(status: Any) -> list[str]:
    host = split_host_port(status.listen)[0]
    if status.enabled and host not in LOOPBACK_HOSTS and status.token is None:
        return [f"listening on {host} (beyond loopback) needs a token (or token_file)"]
    return []


def load_agent_checked(path: Path) -> AgentConfig:
    """The agent's config, checked with the SNMP vendor profiles it names (see `check_agent`)."""
    return check_agent(path)[0]


def check_agent(path: Path) -> tuple[AgentConfig, dict[str, Any]]:
    """The agent's config and the SNMP profiles it names, loaded and checked; one ConfigError lists
    the config's problems and the profiles' together. When the config itself is bad, the profiles
    are checked from the file's own `[snmp]` values (environment overrides of `profiles_dir` count
    only once the rest is valid)."""
    from edge_gateway.agent.collectors import snmp

    config, problems, profiles = None, [], {}
    try:
        config = load_agent(path)
    except ConfigError as exc:
        problems = list(exc.problems)
    if config is not None:
        profiles_dir, wanted = config.snmp.profiles_dir, [(d.name, d.profile) for d in config.snmp.devices]
    else:
        profiles_dir, wanted = _raw_profiles(read_toml(path).get("snmp"))
    try:
        profiles = snmp.check_profiles(profiles_dir, wanted)
    except ConfigError as exc:
        problems += exc.problems
    if problems or config is None:
        raise ConfigError(problems)
    return config, profiles


def _raw_profiles(section: Any) -> tuple[Path | None, list[tuple[str, str]]]:
    """`profiles_dir` (when it is a directory) and the (device, profile) pairs of an unvalidated
    `[snmp]` table."""
    if not isinstance(section, dict):
        return None, []
    raw_dir = section.get("profiles_dir")
    profiles_dir = Path(raw_dir) if isinstance(raw_dir, str) and Path(raw_dir).is_dir() else None
    devices = section.get("devices")
    wanted = [
        (str(device.get("name")), device["profile"])
        for device in (devices if isinstance(devices, list) else [])
        if isinstance(device, dict) and isinstance(device.get("profile"), str)
    ]
    return profiles_dir, wanted


@dataclass(frozen=True, kw_only=True)
class GatewaySection(Section):
    id: Annotated[str, Pattern(NAME_PATTERN), Doc("also the MQTT client id and topic segment")]
    site: str = ""


@dataclass(frozen=True, kw_only=True)
class UplinkSection(MqttConnection):
    batch_max_readings: Annotated[int, Ge(1), Le(100_000)] = 500
    max_inflight_batches: Annotated[int, Ge(1), Le(100)] = 8
    gzip: bool = False
    reconnect_max_s: Annotated[float, Ge(1), Le(3600), Doc("the agent's reconnect backoff cap")] = 5.0
    puback_timeout_s: Annotated[
        float | None, Gt(0), Le(86_400), Doc("None: wait for a PUBACK as long as the connection lives")
    ] = None
    accept_no_subscribers: Annotated[
        bool, Doc("PUBACK 0x10 (nobody subscribed) counts as delivered: only with no consumer")
    ] = False


@dataclass(frozen=True, kw_only=True)
class BufferSection(Section):
    path: Path = Path("/var/lib/edge/buffer.db")
    max_bytes: Annotated[int, Ge(4096)] = 512 * 1024 * 1024
    on_full: Literal["drop_oldest", "drop_newest", "block"] = "drop_oldest"
    synchronous: Literal["normal", "full"] = "normal"
    live_first_after_s: Annotated[float, Ge(0)] = 300.0


@dataclass(frozen=True, kw_only=True)
class StatusSection(Section):
    """The agent's own web page, /metrics and /healthz, for the technician on site and for Prometheus."""

    enabled: bool = True
    listen: Annotated[str, Check(host_port), Doc("host:port")] = "127.0.0.1:9108"
    token: Secret | None = None
    token_file: Path | None = None
    unhealthy_after_s: Annotated[float, Gt(0)] = 300.0
    alertmanager_url: Annotated[
        str | None, Doc("the NOC's Alertmanager: its maintenance silences are shown on the page")
    ] = None

    checks = Checks(
        secrets=("token",), check=status_token, reads=("enabled", "listen", "token", "token_file")
    )

    @property
    def address(self) -> tuple[str, int]:
        return split_host_port(self.listen)


@dataclass(frozen=True, kw_only=True)
class AgentConfig(Section):
    gateway: GatewaySection
    uplink: UplinkSection = field(default_factory=UplinkSection)
    buffer: BufferSection = field(default_factory=BufferSection)
    snmp: SnmpSection = field(default_factory=SnmpSection)
    serial: SerialSection = field(default_factory=SerialSection)
    camera: CameraSection = field(default_factory=CameraSection)
    status: StatusSection = field(default_factory=StatusSection)
    remote_config: RemoteConfigSection = field(default_factory=RemoteConfigSection)
    log_level: Literal["debug", "info", "warning", "error"] = "info"


def load_agent(path: Path) -> AgentConfig:
    """The file validated (pydantic, imported here: see agent/config_child.py for the running agent)."""
    from edge_gateway.core.validation import load_config

    return load_config(AgentConfig, path)
