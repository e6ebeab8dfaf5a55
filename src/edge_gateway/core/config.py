"""What every configuration shares: sections, secrets, the broker connection, errors, TOML and the
environment.

A section is a frozen stdlib dataclass (`@dataclass(frozen=True, kw_only=True)` on a `Section`), so
the gateway's running process holds its configuration without importing pydantic (12 MB of its
RSS, issue 15): pydantic validates these classes where a file is checked — `edge check-config`,
the bridge, and the short-lived child that checks the agent's file (agent/config_child.py). The
rules of a field are written as `Annotated` metadata that pydantic reads and that costs nothing to
import: annotated_types bounds (`Ge(1)`, `MinLen(1)`), and `Doc`, `Pattern` and `Check` below, whose
schema hooks import pydantic only when a schema is built (core/validation.py).

Any key can be set by `EDGE_<SECTION>__<KEY>` (e.g. `EDGE_UPLINK__URL`), which wins over the file
(`with_environment`). `ConfigError` lists every problem by its path (`snmp.devices[2].host: ...`).
`kind_of` tells `edge check-config` which program a file is for. Defaults live with the section
that owns the key, except `DEFAULT_SNMP_INTERVAL_S`: the NOC sizes its liveness windows on it and
imports no agent module. Checks a type cannot express, and secrets read from `<name>_file`, are in
config_checks.py.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from annotated_types import Ge, Gt, Le

from edge_gateway.core.config_checks import Checks, readable_file, url_with

DEFAULT_SNMP_INTERVAL_S = 30.0
"""An SNMP device's poll interval by default; the NOC's liveness windows are sized on it."""
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ENV_PREFIX = "EDGE_"
ENV_DELIMITER = "__"


class ConfigError(Exception):
    """A configuration that cannot be used; `problems` lists every one as 'path: what is wrong'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Section:
    """The base of every config section: unknown keys are problems; `checks` are the section's own
    (secrets from files, cross-field checks, a conversion once valid)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}
    checks: ClassVar[Checks | None] = None

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from edge_gateway.core.validation import section_schema

        return section_schema(cls, source, handler)


@dataclass(frozen=True)
class Doc:
    """A key's description, shown by `edge config-schema`."""

    text: str

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return handler(source)

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> Any:
        described = dict(handler(schema))
        described["description"] = self.text
        return described


@dataclass(frozen=True)
class Pattern:
    """A string that must match `regex` from its start."""

    regex: str

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from edge_gateway.core.validation import with_pattern

        return with_pattern(handler(source), self.regex)


@dataclass(frozen=True)
class Check:
    """A key's own check: `function(value)` returns the value or raises ValueError with the problem."""

    function: Callable[[Any], Any]

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from edge_gateway.core.validation import checked_after

        return checked_after(self.function, handler(source))


class Secret:
    """A password, key or token: shown as `**********` wherever the config is printed or logged."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __getstate__(self) -> str:
        return self._value

    def __setstate__(self, state: str) -> None:
        self._value = state

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from edge_gateway.core.validation import secret_schema

        return secret_schema(cls)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {"type": "string", "format": "password", "writeOnly": True}


DownBackoffMaxS = Annotated[
    float, Ge(0), Le(86_400), Doc("longest gap between two tries of a dead device (0: every cycle)")
]
"""`down_backoff_max_s`, the one setting of the one dead-device policy (core.backoff.cycles_to_skip):
the same name and range for SNMP devices, cameras and serial buses; each keeps the default that fits
its devices (serial sensors are polled every few seconds, so 60 s; APs and cameras 300 s)."""


def redact_url(url: str) -> str:
    """The URL with any password in it replaced by `***`, for logs and error messages."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(an unparsable URL)"
    if not password:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()


ReadableFile = Annotated[Path | None, Check(readable_file)]


@dataclass(frozen=True, kw_only=True)
class MqttConnection(Section):
    """How to reach the broker; shared by the agent's uplink and the bridge's consumer."""

    url: Annotated[str, Check(url_with(("mqtt", "mqtts")))] = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password: Secret | None = None
    password_file: Path | None = None
    ca_file: ReadableFile = None
    cert_file: ReadableFile = None
    key_file: ReadableFile = None
    keepalive_s: Annotated[int, Ge(5), Le(3600)] = 30
    connect_timeout_s: Annotated[float, Gt(0), Le(300)] = 10.0
    reconnect_max_s: Annotated[float, Ge(1), Le(3600)] = 60.0

    checks = Checks(secrets=("password",))

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"


def _env_value(text: str) -> Any:
    """A list or table is given as JSON (`EDGE_SNMP__DEVICES='[...]'`); anything else as text, which
    validation converts to the key's type."""
    if text.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def with_environment(
    data: Mapping[str, Any], sections: frozenset[str], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The file's values with `EDGE_<SECTION>__<KEY>` variables laid over them (names are not case
    sensitive). Only variables naming one of the program's own top-level keys count, so other
    `EDGE_` variables (the simulator's `EDGE_SIM_CLOCK`) are no config key; within a section, a
    mistyped key is reported like one in the file."""
    merged = _copy(data)
    for name, text in sorted((environ if environ is not None else os.environ).items()):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split(ENV_DELIMITER)]
        if path[0] not in sections or not all(path):
            continue
        table = merged
        for part in path[:-1]:
            inner = table.get(part)
            if not isinstance(inner, dict):
                inner = table[part] = {}
            table = inner
        table[path[-1]] = _env_value(text)
    return merged


def _copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _copy(value) if isinstance(value, Mapping) else value for key, value in data.items()}


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc
    except UnicodeDecodeError as exc:  # TOML is UTF-8; anything else is not a config file
        raise ConfigError([f"{path}: not valid TOML: not UTF-8 text (byte {exc.start})"]) from exc


def kind_of(data: dict[str, Any]) -> Literal["agent", "bridge"] | None:
    """Which program a config file is for, from its sections."""
    if any(section in data for section in ("gateway", "snmp", "serial", "camera", "uplink")):
        return "agent"
    if "influxdb" in data or "mqtt" in data:
        return "bridge"
    return None
