"""`import_layer`: import a barrier or street-centerline GeoJSON file as a map layer.

Example (from the project root):

    python manage.py import_layer ../shared/data/cambridge/barriers/rail.geojson \\
      --org wpm --kind rail --filter TYPE=RAIL-ACTIVE,GRADE=At-Grade
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from canvass.errors import DomainError
from canvass.models import Organization
from turf.models import LayerKind
from turf.services.layers import layer_filter_parse, layer_import


class Command(BaseCommand):
    help = (
        "Import a GeoJSON FeatureCollection (lon/lat) as an organization's map layer: barriers "
        "(rail, water, highway) or street centerlines, used by turf cuts and maps. Re-importing "
        "the same --kind and --name replaces the layer. Example: manage.py import_layer "
        "rail.geojson --org wpm --kind rail --filter TYPE=RAIL-ACTIVE,GRADE=At-Grade"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="GeoJSON file (FeatureCollection, EPSG:4326 lon/lat).")
        parser.add_argument("--org", required=True, help="Organization slug (or id).")
        parser.add_argument("--kind", required=True, choices=LayerKind.values)
        parser.add_argument("--name", help="Layer name (default: the file name without suffix).")
        parser.add_argument(
            "--filter",
            dest="filter_spec",
            help="Keep only features whose properties match, e.g. TYPE=RAIL-ACTIVE,GRADE=At-Grade.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        org_ref = str(options["org"])
        org = Organization.objects.filter(slug=org_ref).first()
        if org is None and org_ref.isdigit():
            org = Organization.objects.filter(pk=int(org_ref)).first()
        if org is None:
            raise CommandError(f"No organization with slug or id {org_ref!r}.")
        self.stdout.write(f"Reading {path} ...")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path} is not valid JSON: {exc}.") from exc
        try:
            layer = layer_import(
                organization=org,
                kind=options["kind"],
                name=options.get("name") or path.stem,
                geojson=data,
                filter_=layer_filter_parse(options.get("filter_spec")),
                source_name=str(path),
                progress=self.stdout.write,
            )
        except DomainError as exc:
            raise CommandError(f"{path}: {exc.message}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {layer.feature_count} features into layer {layer.pk} "
                f"({layer.kind}: {layer.name}) of {org.slug}."
            )
        )
