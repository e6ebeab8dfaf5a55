"""The one home of every limit that both an alert and a dashboard use.

Alert rules (`rules.toml`) name these (`value = "ap_temp_high_c"`) and the dashboards colour their
panels with them, so the red on the wall and the page on the phone start at the same number. Limits
from a standard carry their source; band starts are the first value of the band in the standard's own
resolution (ISPU PM2.5 "Tidak Sehat" is 55.5 to 150.4 µg/m³, so it starts at 55.5, and 55.4 is still
"Sedang").
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# ISPU (PermenLHK P.14/2020), 24-hour means. Bands: baik, sedang, tidak sehat, sangat tidak sehat,
# berbahaya; each value starts the next band.
ISPU_PM25_BAND_STARTS_UG_M3 = (15.6, 55.5, 150.5, 250.5)
ISPU_PM10_BAND_STARTS_UG_M3 = (51.0, 151.0, 351.0, 421.0)
ISPU_AVERAGING_S = 24 * 3600

THRESHOLDS: Mapping[str, float] = MappingProxyType(
    {
        "ispu_pm25_tidak_sehat_ug_m3": ISPU_PM25_BAND_STARTS_UG_M3[1],
        "ispu_pm10_tidak_sehat_ug_m3": ISPU_PM10_BAND_STARTS_UG_M3[1],
        "ispu_averaging_s": float(ISPU_AVERAGING_S),
        # KepMenLH 48/1996, dB(A): trade and services, cultural heritage, housing.
        "noise_trade_dba": 70.0,
        "noise_heritage_dba": 60.0,
        "noise_housing_dba": 55.0,
        # Access points: above these the box is in trouble (vendor guidance for outdoor APs).
        "ap_cpu_high_pct": 90.0,
        "ap_mem_high_pct": 90.0,
        "ap_temp_high_c": 60.0,
        "radio_clients_crowded": 40.0,
        # Open data: an AP's clients as a band, never a count (docs/open-data.md).
        "hotspot_busy_clients": 10.0,
        "hotspot_full_clients": 40.0,
        # Cameras: a clock off by more than this makes recordings hard to use as evidence.
        "camera_clock_error_s": 2.0,
        # The gateway: a backlog older than this means the uplink is not keeping up.
        "buffer_oldest_high_s": 300.0,
    }
)


def threshold(value: float | str) -> float:
    """A number as is, or the value of a named threshold; an unknown name lists the known ones."""
    if isinstance(value, str):
        if value not in THRESHOLDS:
            raise ValueError(f"unknown threshold {value!r}; known: {', '.join(sorted(THRESHOLDS))}")
        return THRESHOLDS[value]
    return float(value)
