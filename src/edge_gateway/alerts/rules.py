"""Alert rules as data: a TOML file of `[[rule]]` tables, validated once at start.

The rules shipped in `rules.toml` beside this file are the defaults; a site's own file replaces them
(`[alerts] rules_path`). A bad file is refused with every problem named by its path, like any config.
"""

from __future__ import annotations

import operator
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edge_gateway.alerts.thresholds import threshold
from edge_gateway.core.config import ConfigError
from edge_gateway.core.model import FieldValue, Reading
from edge_gateway.core.validation import problems_of

DEFAULT_RULES = Path(__file__).with_name("rules.toml")
OPERATORS: Mapping[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def tag_values(value: str | list[str]) -> list[str]:
    """A `where_not` value as the list of values it excludes."""
    return [value] if isinstance(value, str) else value


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    kind: Literal["threshold", "down", "stale", "stuck", "offline"]
    severity: Literal["critical", "warning", "info"] = "warning"
    summary: str = ""
    measurement: str | None = None
    where: dict[str, str] = {}
    where_not: dict[str, str | list[str]] = {}  # a list: none of these values
    field: str | None = None
    op: Literal[">", ">=", "<", "<="] = ">"
    value: float | None = None
    sites: dict[str, float] = {}
    for_cycles: int = Field(1, ge=1, le=1000)
    stale_after_s: float = Field(90.0, gt=0)
    # A threshold on the mean over this window (by reading time), as a standard defines it (ISPU:
    # 24-hour means); judged only once `min_coverage` of its 24 slices hold readings.
    mean_over_s: float | None = Field(None, gt=0)
    min_coverage: float = Field(0.75, gt=0, le=1)
    # `down` rules: which failures are theirs, by the status's `error` (e.g. late vs no answer).
    error_regex: str = ""
    error_regex_not: str = ""

    @field_validator("value", "mean_over_s", mode="before")
    @classmethod
    def _named(cls, value: object) -> object:
        """A number, or the name of a limit in src/edge_gateway/alerts/thresholds.py (shared with the
        boards)."""
        return threshold(value) if isinstance(value, str) else value

    @field_validator("sites", mode="before")
    @classmethod
    def _named_sites(cls, value: object) -> object:
        if isinstance(value, dict):
            return {site: threshold(v) if isinstance(v, str) else v for site, v in value.items()}
        return value

    @field_validator("error_regex", "error_regex_not")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        if self.kind != "offline" and not self.measurement:
            raise ValueError(f"a {self.kind} rule needs measurement")
        if self.kind in ("threshold", "stuck") and not self.field:
            raise ValueError(f"a {self.kind} rule needs field")
        if self.kind == "threshold" and self.value is None:
            raise ValueError("a threshold rule needs value")
        if self.mean_over_s is not None and self.kind != "threshold":
            raise ValueError("only a threshold rule can have mean_over_s")
        if (self.error_regex or self.error_regex_not) and self.kind != "down":
            raise ValueError("only a down rule can have error_regex or error_regex_not")
        return self

    def matches(self, reading: Reading) -> bool:
        if reading.measurement != self.measurement:
            return False
        if any(reading.tags.get(key) != value for key, value in self.where.items()):
            return False
        return not any(reading.tags.get(key) in tag_values(value) for key, value in self.where_not.items())

    def condition(self, reading: Reading) -> bool | None:
        """True when the reading is in the alert state, False when fine, None when it does not say.

        A down rule with error patterns owns only the failures whose `error` fits them: a status that
        failed otherwise is not in *this* rule's state (an AP that answered late has not gone silent).
        """
        if self.kind == "down":
            up = reading.fields.get("up")
            if up is None:
                return None
            error = str(reading.fields.get("error", ""))
            if self.error_regex and not re.search(self.error_regex, error):
                return False
            if self.error_regex_not and re.search(self.error_regex_not, error):
                return False
            return up is False
        value = self.number(reading)
        if self.kind == "stuck":
            flag = reading.fields.get(self.field or "")
            return None if flag is None else flag is True
        if self.kind == "threshold" and value is not None:
            return self.crosses(value, reading.tags.get("site", ""))
        return None

    def number(self, reading: Reading) -> float | None:
        """The rule's field as a number, None when the reading does not carry one."""
        value: FieldValue | None = reading.fields.get(self.field or "")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return None

    def crosses(self, value: float, site: str) -> bool:
        limit = self.sites.get(site, self.value)
        return OPERATORS[self.op](value, float(limit or 0.0))


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
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([f"{path}: {exc}"]) from exc
    try:
        return RuleSet(**data).rule
    except ValidationError as exc:
        raise ConfigError([f"{path}: {problem}" for problem in problems_of(exc)]) from exc
