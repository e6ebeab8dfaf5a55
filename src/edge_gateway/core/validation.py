"""Pydantic validation of the config sections (core/config.py), and every problem as 'path: what'.

Imported only where a file or a value is checked: `edge check-config`, the bridge, the NOC tools,
`edge probe`, and the agent's config child (agent/config_child.py); the gateway's running process
never imports it, so pydantic costs its RSS nothing. The sections' own `Checks` run here, around
pydantic's validation of their keys (see config_checks.py for why they are made that way).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

from edge_gateway.core.config import ConfigError, Secret, redact_url, with_environment
from edge_gateway.core.config import read_toml as read_toml
from edge_gateway.core.config_checks import Checks

T = TypeVar("T")

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}
_SECRET_WORDS = ("password", "community", "key", "token")


def adapter(kind: Any) -> TypeAdapter[Any]:
    """A validator of `kind` (a section class or any type), built once: building one costs milliseconds."""
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


def validate(kind: type[T], data: Any, prefix: str = "") -> T:
    """`data` validated as `kind`; every problem in one ConfigError, each at its path under `prefix`."""
    try:
        return typing.cast(T, adapter(kind).validate_python(data))
    except ValidationError as exc:
        raise ConfigError(problems_of(exc, prefix)) from exc


def load_config(kind: type[T], path: Path) -> T:
    """A TOML file, with the `EDGE_...` environment laid over it, validated as a program's config."""
    sections = frozenset(field.name for field in dataclasses.fields(typing.cast(Any, kind)))
    return validate(kind, with_environment(read_toml(path), sections))


def _where(loc: tuple[int | str, ...], prefix: str = "") -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _describe(error: dict[str, Any]) -> str:
    """The error in words; the offending value is shown only when it is a scalar and not a secret."""
    kind = error["type"]
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return "unknown key"
    if kind in ("missing", "missing_keyword_only_argument"):
        return "missing (required)"
    message = str(error["msg"]).removeprefix("Value error, ")
    value, last = error.get("input"), str(error["loc"][-1]) if error["loc"] else ""
    if isinstance(value, str) and "://" in value:
        value = redact_url(value)  # a password may sit in a URL's user info
    if isinstance(value, str | int | float | bool) and not any(word in last for word in _SECRET_WORDS):
        return f"{message} (got {value!r})"
    return message


def problems_of(exc: ValidationError, prefix: str = "") -> list[str]:
    """One 'path: what is wrong' line per error, in file order; the one formatter of every config,
    driver option, register map, alert rule and probe argument. `prefix` is where the data sits."""
    return [f"{_where(tuple(err['loc']), prefix)}: {_describe(dict(err))}" for err in exc.errors()]


def with_pattern(schema: Any, regex: str) -> Any:
    """`schema` (a string's, maybe optional) with the pattern its value must match."""
    target = schema
    while target.get("type") in ("nullable", "default"):
        target = target["schema"]
    if target.get("type") != "str":
        raise TypeError(f"Pattern is for strings, not {target.get('type')}")
    target["pattern"] = regex
    return schema


def checked_after(function: Callable[[Any], Any], schema: Any) -> Any:
    return core_schema.no_info_after_validator_function(function, schema)


def secret_schema(kind: type[Secret]) -> Any:
    """A string kept as a Secret (a Secret given is taken as its text); printed as `**********`."""
    return core_schema.no_info_before_validator_function(
        lambda value: value.get_secret_value() if isinstance(value, Secret) else value,
        core_schema.no_info_after_validator_function(kind, core_schema.str_schema()),
        serialization=core_schema.plain_serializer_function_ser_schema(str),
    )


def _read_secrets(data: dict[str, Any], names: tuple[str, ...]) -> list[tuple[str, str]]:
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


def _valid_part(kind: type[Any], data: dict[str, Any], errors: list[dict[str, Any]]) -> Any:
    """The section built from the keys that validated (list keys keep their valid items), other keys
    at their defaults or absent: what a cross-field check can still look at when some keys are wrong."""
    whole = {str(e["loc"][0]) for e in errors if len(e["loc"]) == 1}
    bad_items = {(str(e["loc"][0]), e["loc"][1]) for e in errors if len(e["loc"]) > 1}
    hints = typing.get_type_hints(kind, include_extras=True)
    part = object.__new__(kind)
    for field in dataclasses.fields(kind):
        if field.default is not dataclasses.MISSING:
            object.__setattr__(part, field.name, field.default)
        elif field.default_factory is not dataclasses.MISSING:
            object.__setattr__(part, field.name, field.default_factory())
    for key, value in data.items():
        if key not in hints or key in whole:
            continue
        if isinstance(value, list):
            value = [item for i, item in enumerate(value) if (key, i) not in bad_items]
        elif any(k == key for k, _ in bad_items):
            continue
        object.__setattr__(part, key, adapter(hints[key]).validate_python(value))
    return part


def _details(errors: list[dict[str, Any]]) -> list[InitErrorDetails]:
    """Pydantic's own errors, kept as they were (type, message, place, input)."""
    return [
        InitErrorDetails(type=PydanticCustomError(e["type"], e["msg"]), loc=tuple(e["loc"]), input=e["input"])
        for e in errors
    ]


def _validate(kind: type[Any], checks: Checks, data: Any, handler: Callable[[Any], Any]) -> Any:
    if not isinstance(data, dict):
        return handler(data)
    data = checks.before(dict(data)) if checks.before else dict(data)
    secret_problems = _read_secrets(data, checks.secrets)
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
    if checks.check is not None and not failed & set(checks.reads) and not any(not e["loc"] for e in errors):
        try:
            problems = checks.check(result if not errors else _valid_part(kind, data, errors))
        except (ValidationError, AttributeError):  # the valid part was not enough to judge by
            problems = []
    if not errors and not problems:
        return result
    details = _details(errors) + [
        InitErrorDetails(type=PydanticCustomError("value_error", text), loc=(), input=data)
        for text in problems
    ]
    raise ValidationError.from_exception_data(kind.__name__, details)


def section_schema(kind: type[Any], source: Any, handler: Any) -> Any:
    """The schema of a section: its keys (pydantic's dataclass schema), wrapped in its own `checks`.
    The wrapper takes the class's `ref`: pydantic validates every further use of the class (a
    section in two places, a recursive part) by that ref, which would otherwise skip the checks."""
    schema = handler(source)
    checks = getattr(kind, "checks", None)
    if checks is None:
        return schema
    return core_schema.no_info_wrap_validator_function(
        lambda data, inner: _validate(kind, checks, data, inner), schema, ref=schema.pop("ref", None)
    )
