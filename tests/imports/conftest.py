"""Small synthetic inputs written to tmp_path (real Cambridge files only in test_cambridge)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from tests.factories import square


def write_csv(
    path: Path, header: list[str], rows: list[list[Any]], encoding: str = "utf-8"
) -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def feature(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def write_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


DOOR_HEADER = ["address_id", "house_number", "street", "bldg_id", "units_est", "lon", "lat"]


@pytest.fixture
def doors_csv(tmp_path: Path) -> Path:
    """Five doors: two in the west square (-71.12..-71.11), three in the east one."""
    return write_csv(
        tmp_path / "doors.csv",
        DOOR_HEADER,
        [
            ["1", "14", "Aberdeen Ave", "B1", "1", "-71.115", "42.375"],
            ["2", "16", "Aberdeen Ave", "B1", "3", "-71.115", "42.375"],
            ["3", "3", "First St", "", "1", "-71.105", "42.375"],
            ["4", "5", "Mt Auburn St", "", "2", "-71.105", "42.376"],
            ["5", "5", "Mt Auburn St", "", "2", "-71.105", "42.376"],
        ],
    )


@pytest.fixture
def squares_geojson(tmp_path: Path) -> Path:
    """Two precincts of ward 1 side by side."""
    return write_geojson(
        tmp_path / "precincts.geojson",
        [
            feature(square(-71.12, 42.37), WardPrecinct="1-1", Ward="1"),
            feature(square(-71.11, 42.37), WardPrecinct="1-2", Ward="1"),
        ],
    )
