"""Import a voter file CSV and match people to doors (see canvass.imports.voters)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from canvass.imports.voters import VOTER_PRESETS, voters_import
from turf.imports.common import ImportFailed, organization_resolve, run_summary
from turf.management.commands.import_doors import _mapping


class Command(BaseCommand):
    help = (
        "Import a voter file (CSV) with a preset (van, project) or a column mapping; upserts on "
        "the voter id and matches people to doors by normalised address. Unmatched rows are "
        "listed (GET /api/campaigns/<id>/imports/<run>/unmatched.csv). Example:\n"
        "  manage.py import_voters --org wpm --preset van voters.csv\n"
        "  manage.py import_voters --org wpm --preset van --encoding latin-1 export.csv"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="CSV file")
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--create-org", action="store_true", help="create the org if missing")
        parser.add_argument("--preset", choices=sorted(VOTER_PRESETS))
        parser.add_argument("--mapping", help="JSON object: person field -> column (or =constant)")
        parser.add_argument("--encoding", default="utf-8", help="e.g. latin-1 (default utf-8)")

    def handle(self, *args: Any, **opts: Any) -> None:
        mapping = _mapping(opts["mapping"])
        org = organization_resolve(slug=opts["org"], create=opts["create_org"])
        try:
            run = voters_import(
                organization=org,
                path=opts["path"],
                preset=opts["preset"],
                mapping=mapping,
                encoding=opts["encoding"],
                progress=self.stdout.write,
            )
        except ImportFailed as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(run_summary(run)))
        if run.unmatched_count:
            self.stdout.write(
                f"{run.unmatched_count:,} unmatched rows are listed in import #{run.pk} "
                f"(ImportRowIssue code unmatched_address)."
            )
