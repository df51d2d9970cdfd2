"""`cut_turfs`: file in, file out, no database; bad input is a CommandError, never a traceback."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

CAMBRIDGE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cambridge"
HEADER = ["address_id", "house_number", "street", "bldg_id", "units_est", "ward", "lon", "lat"]


def write_doors(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def tiny_rows(n: int = 60) -> list[list[object]]:
    rows: list[list[object]] = []
    for i in range(n):
        lon = -71.10 + (i % 10) * 0.0002
        lat = 42.37 + (i // 10) * 0.0002
        rows.append(
            [f"a{i}", 2 * i + 1, "Elm St", f"b{i // 2}", 1, "1" if i < 30 else "2", lon, lat]
        )
    return rows


def run(doors: Path, out: Path, *extra: str) -> str:
    import io

    buf = io.StringIO()
    call_command(
        "cut_turfs",
        "--doors", str(doors), "--id-col", "address_id", "--building-col", "bldg_id",
        "--street-col", "street", "--number-col", "house_number", "--out", str(out), *extra,
        stdout=buf,
    )  # fmt: skip
    return buf.getvalue()


def test_it_writes_one_feature_per_turf(tmp_path: Path) -> None:
    doors = write_doors(tmp_path / "doors.csv", tiny_rows())
    out = tmp_path / "turfs.geojson"
    printed = run(doors, out, "--target", "10", "--group-by", "ward", "--units-col", "units_est")
    data = json.loads(out.read_text())
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == 6
    ids = [d for f in data["features"] for d in f["properties"]["door_ids"]]
    assert sorted(ids) == sorted(f"a{i}" for i in range(60))
    for f in data["features"]:
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert f["properties"]["group"] in ("1", "2")
        assert f["properties"]["doors"] == len(f["properties"]["door_ids"])
        lon, lat = (
            f["geometry"]["coordinates"][0][0][:2]
            if f["geometry"]["type"] == "Polygon"
            else f["geometry"]["coordinates"][0][0][0][:2]
        )
        assert -72 < lon < -71 and 42 < lat < 43
    assert data["metrics"]["split_buildings"] == 0
    assert "6 turfs" in printed


def test_it_reads_projected_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "doors.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "x_m", "y_m"])
        for i in range(40):
            w.writerow([i, 230000 + (i % 8) * 15, 900000 + (i // 8) * 15])
    out = tmp_path / "t.geojson"
    buf = __import__("io").StringIO()
    call_command(
        "cut_turfs", "--doors", str(path), "--id-col", "id", "--x-col", "x_m", "--y-col", "y_m",
        "--epsg", "26986", "--target", "10", "--out", str(out), stdout=buf,
    )  # fmt: skip
    feats = json.loads(out.read_text())["features"]
    assert len(feats) == 4


@pytest.mark.parametrize(
    ("rows", "extra", "message"),
    [
        (tiny_rows(), ["--target", "10", "--group-by", "precinct"], "'precinct'"),
        (tiny_rows(), ["--target", "0"], "positive"),
        (tiny_rows(), ["--target", "61"], "larger than the number of doors"),
        ([], ["--target", "10"], "no doors"),
        ([*tiny_rows()[:3], ["x", 1, "Elm St", "b", 1, "1", "", ""]], ["--target", "2"], "row 5"),
    ],
)
def test_it_reports_bad_input_as_a_command_error(
    tmp_path: Path, rows: list[list[object]], extra: list[str], message: str
) -> None:
    doors = write_doors(tmp_path / "doors.csv", rows)
    with pytest.raises(CommandError, match=message):
        run(doors, tmp_path / "out.geojson", *extra)


def test_it_rejects_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CommandError, match="empty"):
        run(empty, tmp_path / "out.geojson", "--target", "10")


@pytest.mark.slow
def test_it_cuts_cambridge_within_the_targets(tmp_path: Path) -> None:
    if not (CAMBRIDGE / "address" / "doors.csv").exists():
        pytest.skip(f"Cambridge data not found at {CAMBRIDGE}")
    out = tmp_path / "turfs.geojson"
    d = CAMBRIDGE
    call_command(
        "cut_turfs", "--doors", str(d / "address/doors.csv"), "--id-col", "address_id",
        "--building-col", "bldg_id", "--street-col", "street", "--number-col", "house_number",
        "--group-by", "ward", "--target", "80",
        "--barriers", str(d / "barriers/rail.geojson"), str(d / "barriers/water.geojson"),
        "--streets", str(d / "streets/centerlines.geojson"), "--out", str(out),
        stdout=__import__("io").StringIO(),
    )  # fmt: skip
    data = json.loads(out.read_text())
    m = data["metrics"]
    assert m["doors"] == 17463
    assert m["doors_missing"] == 0 and m["doors_in_several_turfs"] == 0
    assert len(data["features"]) == m["turfs"]
    # Targets met (DESIGN.md section 5, issue targets).
    assert m["split_buildings"] == 0
    assert m["within_10pct"] >= 0.95
    assert m["within_25pct"] == 1.0
    assert m["compactness"] >= 0.80
    # Targets not met yet (see bench/README.md): guarded against regressions only.
    # Target 0; ~160 of the 292 doors are inside the hull of the turf holding ward 1's
    # Memorial Dr doors, which ward 2 surrounds.
    assert m["overlap"] < 0.0175
    # The walk keeps the street rules (walk.py): 231.6 km; 222.3 km with street_rules=False.
    assert m["walk_km"] < 232.5  # target <= 222 (231.6 today)
    assert m["barrier_legs"] <= 1  # target 0; 223 Concord Tpke is a one-door island
    assert m["contiguous_turfs"] >= m["turfs"] - 1  # target all; see barrier_legs
    # Speed is measured by bench/turf_cut.py, not asserted here: a timed test is flaky on a
    # loaded CI machine.


def test_worker_processes_write_the_same_turfs(tmp_path: Path) -> None:
    doors = write_doors(tmp_path / "doors.csv", tiny_rows())
    one, two = tmp_path / "one.geojson", tmp_path / "two.geojson"
    run(doors, one, "--target", "10", "--group-by", "ward")
    run(doors, two, "--target", "10", "--group-by", "ward", "--jobs", "2")
    first, second = json.loads(one.read_text()), json.loads(two.read_text())
    assert len(first["features"]) == 6
    assert second["features"] == first["features"]


def test_it_rejects_fewer_than_one_job(tmp_path: Path) -> None:
    doors = write_doors(tmp_path / "doors.csv", tiny_rows())
    out = tmp_path / "out.geojson"
    with pytest.raises(CommandError, match="--jobs must be at least 1, got 0"):
        run(doors, out, "--target", "10", "--jobs", "0")
    assert not out.exists()
