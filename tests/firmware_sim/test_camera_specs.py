"""Simulated cameras stand at their intersections: same site, a position beside it, none on another's."""

from __future__ import annotations

from edge_gateway_dev.sim.camera.fleet import make_camera_specs
from edge_gateway_dev.sim.serial import make_intersection_specs


def test_cameras_take_their_intersections_site_and_position() -> None:
    crossings = make_intersection_specs(8, seed=1)
    cameras = make_camera_specs(12, crossings, seed=1)
    third = next(spec for spec in cameras if spec.name == "cbn-int-03-cam-2")
    assert third.site == crossings[2].site
    assert third.position is not None
    assert abs(third.position[0] - crossings[2].lat_deg) < 0.001 and third.position[1] == crossings[2].lon_deg
    assert len({spec.position for spec in cameras}) == 12


def test_cameras_without_intersections_have_no_position() -> None:
    cameras = make_camera_specs(2, [], seed=1)
    assert [spec.name for spec in cameras] == ["cbn-int-01-cam-1", "cbn-int-01-cam-2"]
    assert all(spec.position is None for spec in cameras)
