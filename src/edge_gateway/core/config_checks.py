"""Checks of the configuration that pydantic's field types cannot express, made so that one run of
`edge check-config` lists every problem of a file.

Pydantic skips a model's "after" validators as soon as one of its fields is wrong, and a "before"
validator that raises hides every other problem of its section: a file needed fixing up to five
times before it passed. So each section validates through `checked_model`: secrets are read from
their `<name>_file` first (a file that cannot be read is a problem of that key, not a stop), then
the fields are validated, then the section's cross-field check runs, on the fields that are valid
when others are not (skipped only when a key it reads is itself wrong), and every problem of all
three steps is raised together, each at its own path. Files the programs will open (CA and client
certificates, profile and rule files) must exist when the config is checked, not when the agent
first connects; ports are checked to be 1-65535 wherever they are written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

Check = Callable[[Any], list[str]]


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def readable_file(path: Path | None) -> Path | None:
    """A file the program will open later: it must be there and readable now."""
    if path is not None:
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
        if not os.access(path, os.R_OK):
            raise ValueError(f"{path}: not readable")
    return path


def existing_dir(path: Path | None) -> Path | None:
    if path is not None and not path.is_dir():
        raise ValueError(f"{path}: no such directory")
    return path


def port_in_range(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"port {text!r} is not 1-65535")
    return int(text)


def split_host_port(value: str, default_port: int | None = None, any_port: bool = False) -> tuple[str, int]:
    """The one reading of `host:port` in every config (status page, bridge pages, open-data feed, SNMP
    devices, ONVIF). With `default_port`, a bare host (or an IPv6 address, which has several colons)
    takes it; `any_port` also accepts 0, a free port picked at start."""
    host, _, port = value.rpartition(":")
    if default_port is not None and value.count(":") != 1:
        return value, default_port
    if not host:
        raise ValueError("must be host:port")
    if any_port and port == "0":
        return host, 0
    return host, port_in_range(port)


def host_port(value: str) -> str:
    """A field check: `host:port` with a port in range."""
    split_host_port(value)
    return value


def listen_address(value: str) -> str:
    """A field check: `host:port` to listen on; port 0 picks a free one."""
    split_host_port(value, any_port=True)
    return value


def url_with(schemes: tuple[str, ...]) -> Callable[[str], str]:
    """A URL check: one of `schemes`, a host, and a port (when given) in range."""

    def check(url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in schemes:
            raise ValueError(f"must start with {' or '.join(s + '://' for s in schemes)}")
        if not parts.hostname:
            raise ValueError("has no host")
        try:
            _ = parts.port
        except ValueError as exc:
            raise ValueError("port is not 1-65535") from exc
        return url

    return check


def _read_secrets(data: dict[str, Any], names: Iterable[str]) -> list[tuple[str, str]]:
    """Fill `<name>` from `<name>_file` (stripped); the problems found, as (key, text)."""
    problems = []
    for name in names:
        path = data.get(f"{name}_file")
        if path is None:
            continue
        if data.get(name) is not None:
            problems.append((f"{name}_file", f"set either {name} or {name}_file, not both"))
            continue
        try:
            data[name] = Path(path).read_text().strip()
        except (OSError, TypeError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            problems.append((f"{name}_file", f"cannot read {path}: {reason}"))
    return problems


_ADAPTERS: dict[tuple[type[Any], str], TypeAdapter[Any]] = {}


def _adapter(model: type[Any], name: str) -> TypeAdapter[Any]:
    """A validator of one key's type (built once per key: building one costs a millisecond)."""
    if (model, name) not in _ADAPTERS:
        _ADAPTERS[model, name] = TypeAdapter(model.model_fields[name].annotation)
    return _ADAPTERS[model, name]


def _valid_part(model: type[Any], data: dict[str, Any], errors: list[dict[str, Any]]) -> Any:
    """The model built from the keys that validated (list keys keep their valid items): what a
    cross-field check can still look at when some keys are wrong."""
    whole = {str(e["loc"][0]) for e in errors if len(e["loc"]) == 1}
    bad_items = {(str(e["loc"][0]), e["loc"][1]) for e in errors if len(e["loc"]) > 1}
    values = {}
    for key, value in data.items():
        if key not in model.model_fields or key in whole:
            continue
        if isinstance(value, list):
            value = [item for i, item in enumerate(value) if (key, i) not in bad_items]
        elif any(k == key for k, _ in bad_items):
            continue
        values[key] = _adapter(model, key).validate_python(value)
    return model.model_construct(**values)


def _details(errors: list[dict[str, Any]]) -> list[InitErrorDetails]:
    """Pydantic's own errors, kept as they were (type, message, place, input)."""
    return [
        InitErrorDetails(type=PydanticCustomError(e["type"], e["msg"]), loc=tuple(e["loc"]), input=e["input"])
        for e in errors
    ]


def _validate(
    model: type[Any],
    data: Any,
    handler: Callable[[Any], Any],
    secrets: tuple[str, ...],
    check: Check | None,
    reads: frozenset[str],
) -> Any:
    if not isinstance(data, dict):
        return handler(data)
    data = dict(data)
    secret_problems = _read_secrets(data, secrets)
    errors: list[dict[str, Any]] = []
    result = None
    try:
        result = handler({k: v for k, v in data.items() if k not in {key for key, _ in secret_problems}})
    except ValidationError as exc:
        errors = [dict(e) for e in exc.errors()]
    errors += [
        {"type": "value_error", "msg": text, "loc": (key,), "input": None} for key, text in secret_problems
    ]
    problems: list[str] = []
    failed = {str(e["loc"][0]) for e in errors if e["loc"]}
    if check is not None and not failed & reads and not any(not e["loc"] for e in errors):
        try:
            problems = check(result if not errors else _valid_part(model, data, errors))
        except (ValidationError, AttributeError):  # the valid part was not enough to judge by
            problems = []
    if not errors and not problems:
        return result
    details = _details(errors) + [
        InitErrorDetails(type=PydanticCustomError("value_error", text), loc=(), input=data)
        for text in problems
    ]
    raise ValidationError.from_exception_data(model.__name__, details)


def checked_model(
    secrets: tuple[str, ...] = (), check: Check | None = None, reads: Iterable[str] = ()
) -> Any:
    """A wrap validator for a section: `secrets` read from their `_file`, `check(section)` giving
    the cross-field problems, `reads` the keys the check looks at (it is skipped when one is wrong)."""
    keys = frozenset(reads)

    def validate(cls: type[Any], data: Any, handler: Callable[[Any], Any]) -> Any:
        return _validate(cls, data, handler, secrets, check, keys)

    return model_validator(mode="wrap")(validate)


def duplicates(what: str, values: list[str]) -> list[str]:
    repeated = sorted({value for value in values if values.count(value) > 1})
    return [f"{what} must be unique: {', '.join(repeated)}"] if repeated else []
