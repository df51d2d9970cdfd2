"""`cut_turfs`: cut a doors CSV into turfs, write GeoJSON. File in, file out, no database.

Example (from the project root):

    python manage.py cut_turfs --doors ../shared/data/cambridge/address/doors.csv \\
      --id-col address_id --building-col bldg_id --street-col street --number-col house_number \\
      --group-by ward --target 80 \\
      --barriers ../shared/data/cambridge/barriers/rail.geojson \\
                 ../shared/data/cambridge/barriers/water.geojson \\
      --streets ../shared/data/cambridge/streets/centerlines.geojson --out turfs.geojson
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    # File in, file out: no database, so the system checks (which import every URL module, DRF
    # and drf-spectacular, ~0.7 s) have nothing to check here.
    requires_system_checks: list[str] = []
    help = (
        "Cut doors (CSV, lon/lat or x/y + EPSG) into walkable turfs and write a GeoJSON "
        "FeatureCollection (one Feature per turf, door ids in walk order, metrics). Example: "
        "manage.py cut_turfs --doors doors.csv --id-col address_id --building-col bldg_id "
        "--street-col street --number-col house_number --group-by ward --target 80 "
        "--barriers rail.geojson water.geojson --streets centerlines.geojson --out turfs.geojson"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--doors", required=True, help="CSV file, one row per door.")
        parser.add_argument("--out", required=True, help="Output GeoJSON file.")
        parser.add_argument("--id-col", required=True, help="Unique door id column.")
        parser.add_argument("--building-col", help="Building key column (empty: by location).")
        parser.add_argument("--street-col", help="Street name column.")
        parser.add_argument("--number-col", help="House number column.")
        parser.add_argument("--units-col", help="Dwelling units per door (optional).")
        parser.add_argument("--group-by", help="Column no turf may cross (ward, precinct).")
        parser.add_argument("--lon-col", default="lon", help="Longitude column (default lon).")
        parser.add_argument("--lat-col", default="lat", help="Latitude column (default lat).")
        parser.add_argument("--x-col", help="Projected x column (with --y-col and --epsg).")
        parser.add_argument("--y-col", help="Projected y column.")
        parser.add_argument("--epsg", type=int, help="EPSG code of --x-col/--y-col.")
        size = parser.add_mutually_exclusive_group(required=True)
        size.add_argument("--target", type=float, help="Target doors per turf.")
        size.add_argument("--turfs", type=int, help="Number of turfs instead of a target.")
        parser.add_argument(
            "--barriers", nargs="*", default=[], help="GeoJSON files of railways, water, highways."
        )
        parser.add_argument(
            "--barrier-filter",
            default=None,
            help=(
                "Which barrier LINE features count, as KEY=VALUE[,KEY=VALUE]; a feature lacking a "
                "key is kept. Default TYPE=RAIL-ACTIVE,GRADE=At-Grade (active railways at grade "
                "in the Cambridge rail layer); 'none' keeps every line. Polygons (water) always "
                "count."
            ),
        )
        parser.add_argument("--streets", help="GeoJSON street centerlines (walk order).")
        parser.add_argument(
            "--jobs",
            type=int,
            default=1,
            help=(
                "Worker processes that cut the groups (--group-by) and walk the turfs side by "
                "side; the turfs are the same whatever the number. Default 1; worth it for big "
                "districts (1,000,000 doors: ~55 s with 1, ~40 s with 2)."
            ),
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        # Lazy imports: the engine (numpy, scipy, shapely) loads only when this command runs.
        from turf.cutting import CutError, cut
        from turf.cutting.io import (
            DoorColumns,
            parse_filter,
            read_barriers,
            read_doors_csv,
            read_streets,
            write_geojson,
        )

        if opts["jobs"] < 1:
            raise CommandError(f"--jobs must be at least 1, got {opts['jobs']}.")
        started = time.perf_counter()
        verbose = int(opts.get("verbosity", 1)) >= 1
        try:
            doors, projection = read_doors_csv(
                opts["doors"],
                DoorColumns(
                    id=opts["id_col"],
                    building=opts["building_col"],
                    street=opts["street_col"],
                    number=opts["number_col"],
                    units=opts["units_col"],
                    group=opts["group_by"],
                    lon=opts["lon_col"],
                    lat=opts["lat_col"],
                    x=opts["x_col"],
                    y=opts["y_col"],
                    epsg=opts["epsg"],
                ),
            )
            barriers = (
                read_barriers(opts["barriers"], projection, parse_filter(opts["barrier_filter"]))
                if opts["barriers"]
                else None
            )
            streets = read_streets(opts["streets"], projection) if opts["streets"] else None
            read_s = time.perf_counter() - started
            big = len(doors) >= 100_000

            def progress(msg: str) -> None:
                if verbose and big:
                    self.stdout.write(f"  {msg}")

            result = cut(
                doors,
                target=opts["target"],
                n_turfs=opts["turfs"],
                barriers=barriers,
                streets=streets,
                progress=progress,
                jobs=opts["jobs"],
            )
            write_geojson(result, projection, opts["out"])
        except CutError as exc:
            raise CommandError(str(exc)) from exc
        m = result.metrics
        total = time.perf_counter() - started
        if verbose:
            self.stdout.write(
                f"{m['doors']} doors -> {m['turfs']} turfs "
                f"({m['doors_per_turf_min']}-{m['doors_per_turf_max']} doors/turf, "
                f"{m['within_10pct']:.0%} within ±10%, {m['within_25pct']:.0%} within ±25%)\n"
                f"compactness {m['compactness']:.3f}, overlap {m['overlap']:.2%}, "
                f"walk {m['walk_km']:.1f} km, split buildings {m['split_buildings']}, "
                f"barrier legs {m['barrier_legs']}, contiguous {m['contiguous_turfs']}/{m['turfs']}\n"
                f"read {read_s:.2f} s, cut {m['cut_seconds']:.2f} s, total {total:.2f} s "
                f"-> {opts['out']}"
            )
