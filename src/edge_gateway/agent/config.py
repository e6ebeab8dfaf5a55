"""The agent's configuration (`edge agent -c edge.toml`): its sections, their defaults and checks.

`load_agent` validates a file; `load_agent_checked` also loads the SNMP vendor profiles its devices
name, in the same list of problems: the agent starts with it, and `edge check-config` and a remote
configuration check with it, so all three refuse the same files (a reload on SIGHUP checks the
profiles itself). The `[serial]`, `[camera]` and `[remote_config]` sections are defined next to their
code (collectors/serial, collectors/camera, remote_config.py). The settings base (environment
overrides, problems listed by path) is core.config; the bridge's configuration is bridge/config.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    SecretStr,
    field_validator,
)

from edge_gateway.agent.collectors.camera.config import CameraSection
from edge_gateway.agent.collectors.serial.config import SerialSection
from edge_gateway.agent.remote_config import RemoteConfigSection
from edge_gateway.core.config import (
    DEFAULT_SNMP_INTERVAL_S,
    NAME_PATTERN,
    ConfigError,
    EnvFirstSettings,
    MqttConnection,
    Section,
    load_config,
    read_toml,
)
from edge_gateway.core.config_checks import (
    LOOPBACK_HOSTS,
    checked_model,
    duplicates,
    existing_dir,
    host_port,
    split_host_port,
)


def snmp_credentials(device: Any) -> list[str]:
    """What a device's SNMP version needs."""
    if device.version == "2c":
        return [] if device.community is not None else ["version 2c needs community (or community_file)"]
    problems = []
    if not device.user:
        problems.append("version 3 needs user")
    if (device.auth_protocol is None) != (device.auth_key is None):
        problems.append("auth_protocol and auth_key go together")
    if (device.priv_protocol is None) != (device.priv_key is None):
        problems.append("priv_protocol and priv_key go together")
    if device.priv_protocol and not device.auth_protocol:
        problems.append("privacy needs authentication (auth_protocol, auth_key)")
    return problems


def snmp_section(section: Any) -> list[str]:
    """Client readings need a long enough key; device names are unique."""
    problems = duplicates("device names", [device.name for device in section.devices])
    wanted = section.clients or any(device.clients for device in section.devices)
    key = section.client_hash_key
    if wanted and key is None:
        problems.append("client readings need client_hash_key (or client_hash_key_file)")
    if key is not None and len(key.get_secret_value()) < 16:
        problems.append("client_hash_key needs at least 16 characters")
    return problems


def status_token(status: Any) -> list[str]:
    host = split_host_port(status.listen)[0]
    if status.enabled and host not in LOOPBACK_HOSTS and status.token is None:
        return [f"listening on {host} (beyond loopback) needs a token (or token_file)"]
    return []


def load_agent_checked(path: Path) -> AgentConfig:
    """The agent's config with the SNMP profiles it names loaded and checked; one
    ConfigError lists the config's problems and the profiles' together. When the config itself is
    bad, the profiles are checked from the file's own `[snmp]` values (environment overrides of
    `profiles_dir` count only once the rest is valid)."""
    from edge_gateway.agent.collectors import snmp

    config, problems = None, []
    try:
        config = load_agent(path)
    except ConfigError as exc:
        problems = list(exc.problems)
    if config is not None:
        profiles_dir, wanted = config.snmp.profiles_dir, [(d.name, d.profile) for d in config.snmp.devices]
    else:
        profiles_dir, wanted = _raw_profiles(read_toml(path).get("snmp"))
    try:
        snmp.check_profiles(profiles_dir, wanted)
    except ConfigError as exc:
        problems += exc.problems
    if problems or config is None:
        raise ConfigError(problems)
    return config


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


class GatewaySection(Section):
    id: str = Field(pattern=NAME_PATTERN, description="also the MQTT client id and topic segment")
    site: str = ""


class UplinkSection(MqttConnection):
    batch_max_readings: int = Field(500, ge=1, le=100_000)
    max_inflight_batches: int = Field(8, ge=1, le=100)
    gzip: bool = False
    reconnect_max_s: float = Field(5.0, ge=1, le=3600, description="the agent's reconnect backoff cap")
    puback_timeout_s: float | None = Field(
        None, gt=0, le=86_400, description="None: wait for a PUBACK as long as the connection lives"
    )
    accept_no_subscribers: bool = Field(
        False, description="PUBACK 0x10 (nobody subscribed) counts as delivered: only with no consumer"
    )


class BufferSection(Section):
    path: Path = Path("/var/lib/edge/buffer.db")
    max_bytes: int = Field(512 * 1024 * 1024, ge=4096)
    on_full: Literal["drop_oldest", "drop_newest", "block"] = "drop_oldest"
    synchronous: Literal["normal", "full"] = "normal"
    live_first_after_s: float = Field(300.0, ge=0)


class SnmpDevice(Section):
    name: str = Field(pattern=NAME_PATTERN)
    host: str = Field(min_length=1, description="host or host:port")
    version: Literal["2c", "3"] = "2c"
    community: SecretStr | None = None
    community_file: Path | None = None
    user: str | None = None
    auth_protocol: Literal["sha", "md5"] | None = None
    auth_key: SecretStr | None = None
    auth_key_file: Path | None = None
    priv_protocol: Literal["aes", "des"] | None = None
    priv_key: SecretStr | None = None
    priv_key_file: Path | None = None
    profile: str = "auto"
    site: str | None = None
    interval_s: float = Field(DEFAULT_SNMP_INTERVAL_S, ge=1, le=86_400)
    timeout_s: float = Field(2.0, gt=0, le=60)
    retries: int = Field(1, ge=0, le=10)
    lat: float | None = Field(None, ge=-90, le=90, description="position on the NOC map, degrees")
    lon: float | None = Field(None, ge=-180, le=180)
    deadline_s: float | None = Field(None, gt=0, le=86_400, description="None: 0.9 x interval_s")
    backend: Literal["gufo", "pysnmp"] | None = Field(None, description="None: the section's")
    clients: bool | None = Field(None, description="ap_client readings; None: the section's")
    max_rows_per_table: int | None = Field(None, ge=1, le=1_000_000, description="None: the profile's")
    max_requests_per_poll: int | None = Field(None, ge=1, le=100_000, description="None: the profile's")

    _checks = checked_model(
        secrets=("community", "auth_key", "priv_key"),
        check=snmp_credentials,
        reads=(
            *("version", "user", "auth_protocol", "priv_protocol", "community", "community_file"),
            *("auth_key", "auth_key_file", "priv_key", "priv_key_file"),
        ),
    )

    @property
    def address(self) -> tuple[str, int]:
        return split_host_port(self.host, default_port=161)

    @field_validator("host")
    @classmethod
    def _port_in_range(cls, host: str) -> str:
        split_host_port(host, default_port=161)
        return host


class SnmpSection(Section):
    concurrency: int = Field(32, ge=1, le=1024)
    backend: Literal["gufo", "pysnmp"] = "gufo"
    profiles_dir: Path | None = Field(None, description="more vendor profiles, *.toml")
    clients: bool = False
    client_hash_key: SecretStr | None = None
    client_hash_key_file: Path | None = None
    max_repetitions: int = Field(25, ge=1, le=200)
    max_varbinds_per_walk: int = Field(10_000, ge=10, le=1_000_000)
    down_backoff_max_s: float = Field(300.0, ge=0, le=86_400)
    devices: list[SnmpDevice] = []

    _checks = checked_model(
        secrets=("client_hash_key",),
        check=snmp_section,
        reads=("clients", "client_hash_key", "client_hash_key_file"),
    )
    _dir = field_validator("profiles_dir")(existing_dir)


class StatusSection(Section):
    """The agent's own web page, /metrics and /healthz, for the technician on site and for Prometheus."""

    enabled: bool = True
    listen: str = Field("127.0.0.1:9108", description="host:port")
    token: SecretStr | None = None
    token_file: Path | None = None
    unhealthy_after_s: float = Field(300.0, gt=0)
    alertmanager_url: str | None = Field(
        None, description="the NOC's Alertmanager: its maintenance silences are shown on the page"
    )

    _checks = checked_model(
        secrets=("token",), check=status_token, reads=("enabled", "listen", "token", "token_file")
    )
    _listen = field_validator("listen")(host_port)

    @property
    def address(self) -> tuple[str, int]:
        return split_host_port(self.listen)


class AgentConfig(EnvFirstSettings):
    gateway: GatewaySection
    uplink: UplinkSection = UplinkSection()
    buffer: BufferSection = BufferSection()
    snmp: SnmpSection = SnmpSection()
    serial: SerialSection = SerialSection()
    camera: CameraSection = CameraSection()
    status: StatusSection = StatusSection()
    remote_config: RemoteConfigSection = RemoteConfigSection()
    log_level: Literal["debug", "info", "warning", "error"] = "info"


def load_agent(path: Path) -> AgentConfig:
    return load_config(AgentConfig, path)
