"""Settings for every test: property tests judge what the code returns, never how fast it was.

Hypothesis fails an example slower than 200 ms (its default deadline) and a strategy it finds too slow
to draw from (its too_slow health check). Both are wall-clock judgements: on a loaded machine (CI and
the helpers share two cores) they fail correct code now and then. The profile turns both off for the
tests that do not set their own.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile("edge", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("edge")
