"""Import districts from a GeoJSON file (see turf.imports.districts for the rules)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from turf.imports.common import ImportFailed, organization_resolve, run_summary
from turf.imports.districts import districts_import_geojson
from turf.models import DistrictKind


class Command(BaseCommand):
    help = (
        "Import districts (polygons) from GeoJSON; upserts on (org, kind, name), then assigns "
        "doors by point-in-polygon. Example:\n"
        "  manage.py import_districts --org wpm --kind precinct --name-property WardPrecinct "
        "--parent-kind ward --parent-property Ward --dissolve "
        "../shared/data/cambridge/elections/wards_precincts.geojson"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="GeoJSON FeatureCollection (lon/lat)")
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--create-org", action="store_true", help="create the org if missing")
        parser.add_argument("--kind", required=True, choices=DistrictKind.values)
        parser.add_argument("--name-property", required=True, help="feature property: name")
        parser.add_argument("--code-property", help="feature property: external code")
        parser.add_argument("--parent-kind", choices=DistrictKind.values)
        parser.add_argument(
            "--parent-property",
            help="feature property naming the parent (else: parent by containment)",
        )
        parser.add_argument(
            "--dissolve",
            action="store_true",
            help="make the parents by dissolving features sharing --parent-property",
        )
        parser.add_argument(
            "--repair", action="store_true", help="repair invalid geometries (shapely make_valid)"
        )
        parser.add_argument("--no-assign", action="store_true", help="skip point-in-polygon")

    def handle(self, *args: Any, **opts: Any) -> None:
        org = organization_resolve(slug=opts["org"], create=opts["create_org"])
        try:
            run = districts_import_geojson(
                organization=org,
                fp_or_path=opts["path"],
                kind=opts["kind"],
                name_property=opts["name_property"],
                code_property=opts["code_property"],
                parent_kind=opts["parent_kind"],
                parent_property=opts["parent_property"],
                dissolve=opts["dissolve"],
                repair=opts["repair"],
                assign=not opts["no_assign"],
                progress=self.stdout.write,
            )
        except ImportFailed as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(run_summary(run)))
