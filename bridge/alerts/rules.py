"""Alert rules as data: a TOML file of `[[rule]]` tables, validated once at start.

The rules shipped in `rules.toml` beside this file are the defaults; a site's own file replaces them
(`[alerts] rules_path`). A bad file is refused with every problem named by its path, like any config.
"""

from __future__ import annotations

import operator
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge.config import ConfigError, problems_of
from edge.model import FieldValue, Reading

DEFAULT_RULES = Path(__file__).with_name("rules.toml")
OPERATORS: Mapping[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    kind: Literal["threshold", "down", "stale", "stuck", "offline"]
    severity: Literal["critical", "warning", "info"] = "warning"
    summary: str = ""
    measurement: str | None = None
    where: dict[str, str] = {}
    where_not: dict[str, str] = {}
    field: str | None = None
    op: Literal[">", ">=", "<", "<="] = ">"
    value: float | None = None
    sites: dict[str, float] = {}
    for_cycles: int = Field(1, ge=1, le=1000)
    stale_after_s: float = Field(90.0, gt=0)

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        if self.kind != "offline" and not self.measurement:
            raise ValueError(f"a {self.kind} rule needs measurement")
        if self.kind in ("threshold", "stuck") and not self.field:
            raise ValueError(f"a {self.kind} rule needs field")
        if self.kind == "threshold" and self.value is None:
            raise ValueError("a threshold rule needs value")
        return self

    def matches(self, reading: Reading) -> bool:
        if reading.measurement != self.measurement:
            return False
        if any(reading.tags.get(key) != value for key, value in self.where.items()):
            return False
        return not any(reading.tags.get(key) == value for key, value in self.where_not.items())

    def condition(self, reading: Reading) -> bool | None:
        """True when the reading is in the alert state, False when fine, None when it does not say."""
        if self.kind == "down":
            up = reading.fields.get("up")
            return None if up is None else up is False
        value: FieldValue | None = reading.fields.get(self.field or "")
        if self.kind == "stuck":
            return None if value is None else value is True
        if self.kind == "threshold" and isinstance(value, int | float) and not isinstance(value, bool):
            limit = self.sites.get(reading.tags.get("site", ""), self.value)
            return OPERATORS[self.op](float(value), float(limit or 0.0))
        return None


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: list[Rule]

    @model_validator(mode="after")
    def _unique(self) -> RuleSet:
        names = [rule.name for rule in self.rule]
        if len(set(names)) != len(names):
            raise ValueError(f"rule names must be unique: {sorted({n for n in names if names.count(n) > 1})}")
        return self


def load_rules(path: Path = DEFAULT_RULES) -> list[Rule]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([f"{path}: {exc}"]) from exc
    try:
        return RuleSet(**data).rule
    except ValidationError as exc:
        raise ConfigError([f"{path}: {problem}" for problem in problems_of(exc)]) from exc
