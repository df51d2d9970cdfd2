"""Import address points (doors) from CSV or GeoJSON (see turf.imports.doors for the rules)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from turf.imports.common import ImportFailed, organization_resolve, run_summary
from turf.imports.doors import DOOR_PRESETS, doors_import


class Command(BaseCommand):
    help = (
        "Import doors (address points) from CSV or GeoJSON with a preset or a column mapping; "
        "upserts on the external id, then assigns districts. Example:\n"
        "  manage.py import_doors --org wpm --create-org --preset cambridge "
        "../shared/data/cambridge/address/doors.csv\n"
        '  manage.py import_doors --org wpm --mapping \'{"external_id": "id", "street": "st", '
        '"house_number": "no", "lon": "x", "lat": "y", "state": "=MA"}\' doors.csv'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="CSV or GeoJSON file")
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--create-org", action="store_true", help="create the org if missing")
        parser.add_argument("--format", dest="fmt", choices=["csv", "geojson"], default=None)
        parser.add_argument("--preset", choices=sorted(DOOR_PRESETS))
        parser.add_argument("--mapping", help="JSON object: door field -> column (or =constant)")
        parser.add_argument("--encoding", default="utf-8", help="e.g. latin-1 (default utf-8)")
        parser.add_argument("--no-assign", action="store_true", help="skip point-in-polygon")

    def handle(self, *args: Any, **opts: Any) -> None:
        mapping = _mapping(opts["mapping"])
        fmt = opts["fmt"] or ("geojson" if opts["path"].endswith(("json", "geojson")) else "csv")
        org = organization_resolve(slug=opts["org"], create=opts["create_org"])
        try:
            run = doors_import(
                organization=org,
                path=opts["path"],
                fmt=fmt,
                preset=opts["preset"],
                mapping=mapping,
                encoding=opts["encoding"],
                assign=not opts["no_assign"],
                progress=self.stdout.write,
            )
        except ImportFailed as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(run_summary(run)))


def _mapping(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"--mapping is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise CommandError("--mapping must be a JSON object of field -> column.")
    return value
