"""The one Prometheus text renderer: HELP/TYPE, escaped labels, whole numbers in full."""

from __future__ import annotations

import math

from edge_gateway.core.metrics import NO_LABELS, Metric, render


def test_families_in_order_with_escaped_labels() -> None:
    text = render(
        [
            Metric("a_total", "counter", "things done", [(NO_LABELS, 3)]),
            Metric("b", "gauge", "per site", [({"site": 'Ke"j\\a\nk'}, 2.5), ({"site": "x"}, 0.0)]),
        ]
    )
    assert text == (
        "# HELP a_total things done\n# TYPE a_total counter\na_total 3\n"
        "# HELP b per site\n# TYPE b gauge\n"
        'b{site="Ke\\"j\\\\a\\nk"} 2.5\nb{site="x"} 0\n'
    )


def test_large_counters_are_written_in_full_and_specials_spelled_as_prometheus_does() -> None:
    samples = [({"v": "big"}, 123_456_789.0), ({"v": "nan"}, math.nan), ({"v": "inf"}, math.inf)]
    text = render([Metric("m", "gauge", "h", samples)])
    assert 'm{v="big"} 123456789\n' in text
    assert 'm{v="nan"} NaN\n' in text
    assert 'm{v="inf"} +Inf\n' in text
