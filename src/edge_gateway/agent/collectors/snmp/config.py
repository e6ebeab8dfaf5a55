"""Configuration of the SNMP collector: section-wide keys, then one table per device.

```toml
[snmp]
concurrency = 32
client_hash_key_file = "/etc/edge/client-hash.key"   # needed when client readings are on

[[snmp.devices]]
name = "int01-ap"
host = "10.20.1.2"            # host or host:port (161)
version = "2c"
community_file = "/etc/edge/snmp-community"
profile = "auto"              # a vendor profile's name, or chosen from what the device answers
interval_s = 30
```

A device's `backend` and `clients` left unset take the section's. The vendor profiles a device names
are checked where the config is checked (`check_profiles`, collectors/snmp/__init__.py). Defaults
live here and nowhere else, except `DEFAULT_SNMP_INTERVAL_S` (core/config.py: the NOC sizes its
liveness windows on it); see docs/snmp.md and docs/configuration.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt, Le, MinLen

from edge_gateway.core.config import (
    DEFAULT_SNMP_INTERVAL_S,
    NAME_PATTERN,
    Check,
    Doc,
    DownBackoffMaxS,
    Pattern,
    Secret,
    Section,
)
from edge_gateway.core.config_checks import Checks, duplicates, existing_dir, split_host_port


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


def _snmp_host(host: str) -> str:
    split_host_port(host, default_port=161)
    return host


@dataclass(frozen=True, kw_only=True)
class SnmpDevice(Section):
    name: Annotated[str, Pattern(NAME_PATTERN)]
    host: Annotated[str, MinLen(1), Check(_snmp_host), Doc("host or host:port")]
    version: Literal["2c", "3"] = "2c"
    community: Secret | None = None
    community_file: Path | None = None
    user: str | None = None
    auth_protocol: Literal["sha", "md5"] | None = None
    auth_key: Secret | None = None
    auth_key_file: Path | None = None
    priv_protocol: Literal["aes", "des"] | None = None
    priv_key: Secret | None = None
    priv_key_file: Path | None = None
    profile: str = "auto"
    site: str | None = None
    interval_s: Annotated[float, Ge(1), Le(86_400)] = DEFAULT_SNMP_INTERVAL_S
    timeout_s: Annotated[float, Gt(0), Le(60)] = 2.0
    retries: Annotated[int, Ge(0), Le(10)] = 1
    lat: Annotated[float | None, Ge(-90), Le(90), Doc("position on the NOC map, degrees")] = None
    lon: Annotated[float | None, Ge(-180), Le(180)] = None
    deadline_s: Annotated[float | None, Gt(0), Le(86_400), Doc("None: 0.9 x interval_s")] = None
    backend: Annotated[Literal["gufo", "pysnmp"] | None, Doc("None: the section's")] = None
    clients: Annotated[bool | None, Doc("ap_client readings; None: the section's")] = None
    max_rows_per_table: Annotated[int | None, Ge(1), Le(1_000_000), Doc("None: the profile's")] = None
    max_requests_per_poll: Annotated[int | None, Ge(1), Le(100_000), Doc("None: the profile's")] = None

    checks = Checks(
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


@dataclass(frozen=True, kw_only=True)
class SnmpSection(Section):
    concurrency: Annotated[int, Ge(1), Le(1024)] = 32
    backend: Literal["gufo", "pysnmp"] = "gufo"
    profiles_dir: Annotated[Path | None, Check(existing_dir), Doc("more vendor profiles, *.toml")] = None
    clients: bool = False
    client_hash_key: Secret | None = None
    client_hash_key_file: Path | None = None
    max_repetitions: Annotated[int, Ge(1), Le(200)] = 25
    max_varbinds_per_walk: Annotated[int, Ge(10), Le(1_000_000)] = 10_000
    down_backoff_max_s: DownBackoffMaxS = 300.0
    devices: list[SnmpDevice] = field(default_factory=list)

    checks = Checks(
        secrets=("client_hash_key",),
        check=snmp_section,
        reads=("clients", "client_hash_key", "client_hash_key_file"),
    )
