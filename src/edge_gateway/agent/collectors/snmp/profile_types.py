"""The value types of a profile file: OIDs, regular expressions, numbers as TOML wrote them.

Written as `Annotated` metadata that pydantic reads when a profile is checked (profile.py's
`parse_profile`, where the config is checked) and that costs the running agent nothing: the schema
hooks below import pydantic_core only when a schema is built.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import Ge

from edge_gateway.core.config import Check


@dataclass(frozen=True)
class Before:
    """A value's rewrite before it is validated (a short form, a number written for an OID); the
    rewrite raises ValueError with the problem. Pydantic reads it only when a profile is checked."""

    function: Callable[[Any], Any]

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_before_validator_function(self.function, handler(source))


@dataclass(frozen=True)
class AsWritten:
    """A number as TOML wrote it: never a string or a bool, and a float never inf or nan."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        inner = handler(source)
        inner["strict"] = True
        if inner.get("type") == "float":
            inner["allow_inf_nan"] = False
        return inner


def _oid(value: Any) -> str:
    text = str(value).strip().lstrip(".")
    parts = text.split(".")
    if not text or not all(part.isdigit() for part in parts) or len(parts) < 2:
        raise ValueError("not a numeric OID")
    return text


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from exc
    return value


def one_group(pattern: str) -> str:
    if pattern and re.compile(pattern).groups != 1:
        raise ValueError("needs exactly one group, the tag's value")
    return pattern


Oid = Annotated[str, Before(_oid)]
Regex = Annotated[str, Check(_regex)]
Number = Annotated[float, AsWritten()]  # an integer or a float, never a string
Count = Annotated[int, AsWritten(), Ge(1)]
