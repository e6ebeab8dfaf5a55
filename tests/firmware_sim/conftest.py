"""The simulated hours a test marked `hours` runs at (tests/firmware_sim/hours.py)."""

from tests.firmware_sim.hours import pytest_generate_tests, sim_start_s

__all__ = ["pytest_generate_tests", "sim_start_s"]
