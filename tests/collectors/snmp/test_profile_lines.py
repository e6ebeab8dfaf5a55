"""The key-line scanner on the TOML a profile may hold beyond the built-ins' style."""

from __future__ import annotations

import tomllib

from edge_gateway.agent.collectors.snmp.profile_lines import key_lines, line_of
from tests.collectors.snmp.test_profiles import key_paths

TRICKY = """\
# [[not a header]] in a comment, nor "a string
vendor = 'x = [1'          # a literal string holding '=' and '['
a.b."c.d" = 1              # dotted keys, one quoted with a dot in it
text = \"\"\"
[[still text]] "quoted" \\\"\"\" and = signs
\"\"\"
[[tables]]
name = "one"
[tables.model]
get = [
  "1.3.6.1.2.1.1.1.0",   # a comment inside an array
  [1, {deep = true}],
]
[[tables.fields]]
name = "f0"
[[tables.fields]]
name = "f1"
[[tables]]
name = "two"
[[tables.fields]]
name = "g0"
"""


def test_tricky_toml_is_placed_key_by_key() -> None:
    lines = key_lines(TRICKY)
    assert set(lines) == set(key_paths(tomllib.loads(TRICKY)))
    assert lines[("vendor",)] == 2
    assert lines[("a", "b", "c.d")] == lines[("a",)] == 3
    assert lines[("text",)] == 4
    assert lines[("tables", 0, "model", "get", 1, 1, "deep")] == 12
    assert lines[("tables", 0, "fields", 1, "name")] == 17
    assert lines[("tables", 1)] == 18
    assert lines[("tables", 1, "fields", 0, "name")] == 21


def test_a_place_not_in_the_file_gets_its_nearest_ancestor() -> None:
    lines = key_lines(TRICKY)
    assert line_of(lines, ("tables", 1, "fields", 0, "oid")) == 20  # missing key: its table's header
    assert line_of(lines, ("nowhere",)) is None
