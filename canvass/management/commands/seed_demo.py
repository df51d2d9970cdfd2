"""manage.py seed_demo: the demo organization, campaign, cast and voter universe."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from canvass.demo import (
    DEMO_CAMPAIGN_NAME,
    DEMO_ORG_NAME,
    DemoResult,
    demo_seed,
)
from canvass.errors import DomainError


class Command(BaseCommand):
    help = (
        "Load the demo: organization 'Demo Workers Party', campaign 'Demo for State Rep', users "
        "(director, organizer1-2, canvasser1-6, viewer, admin; password demo-<username>) and a "
        "synthetic city with a voter file. Idempotent: does nothing when the demo exists "
        "(use --reset to rebuild).\n\n"
        "Examples:\n"
        "  manage.py seed_demo\n"
        "  manage.py seed_demo --reset --doors 20000 --no-turfs\n"
        "  manage.py seed_demo --reset --real-data ../shared/data/cambridge"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--doors", type=int, default=5_000, help="Synthetic doors (default 5000)."
        )
        parser.add_argument("--seed", type=int, default=7, help="Random seed (default 7).")
        parser.add_argument(
            "--real-data",
            type=Path,
            default=None,
            metavar="PATH",
            help="A Cambridge data folder (e.g. ../shared/data/cambridge): real districts and "
            "doors instead of the synthetic city; synthetic voters on the real doors.",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo organization first."
        )
        parser.add_argument(
            "--turfs",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="Cut the state house district into draft turfs and publish and assign a dozen "
            "of them to the canvassers (default: on; --no-turfs to skip).",
        )
        parser.add_argument(
            "--turf-target", type=int, default=80, help="Doors per turf with --turfs (default 80)."
        )
        parser.add_argument(
            "--people-per-unit",
            type=float,
            default=1.7,
            help="Synthetic voters per dwelling unit (default 1.7).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo users have well-known passwords).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off: refusing to create users with well-known passwords. "
                "Run with DEBUG=1 (local development) or pass --force."
            )
        doors: int = options["doors"]
        if doors < 1 or doors > 5_000_000:
            raise CommandError(f"--doors must be between 1 and 5,000,000 (got {doors}).")
        if not 0 <= options["people_per_unit"] <= 10:
            raise CommandError("--people-per-unit must be between 0 and 10.")
        if options["turf_target"] < 5:
            raise CommandError("--turf-target must be at least 5.")
        real: Path | None = options["real_data"]
        if real is not None:
            real = real.expanduser().resolve()
            if not real.is_dir():
                raise CommandError(f"--real-data {real}: not a folder.")
        started = time.monotonic()
        try:
            result = demo_seed(
                doors=doors,
                seed=options["seed"],
                real_data=real,
                reset=options["reset"],
                turfs=options["turfs"],
                turf_target=options["turf_target"],
                people_per_unit=options["people_per_unit"],
                progress=self.stdout.write,
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        elapsed = time.monotonic() - started
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo loaded in {elapsed:.1f} s: {result.doors:,} doors, "
                    f"{result.people:,} people, {result.districts} districts, "
                    f"{result.layers} map layers, {result.turfs} turfs."
                )
            )
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"The demo organization {DEMO_ORG_NAME!r} already exists ({result.doors:,} "
                    f"doors, {result.people:,} people): nothing changed. Use --reset to rebuild."
                )
            )
        self._print_logins(result)

    def _print_logins(self, result: DemoResult) -> None:
        w = self.stdout.write
        # `make demo` passes HOST/PORT to runserver; print URLs that match.
        base = f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
        w("")
        w(f"Campaign {DEMO_CAMPAIGN_NAME!r} (id {result.campaign.pk}). Demo logins (dev only):")
        for user in result.users:
            team = f" ({user.team})" if user.team else ""
            w(f"  {user.username:<12} {user.password:<18} {user.role}{team}")
        if result.assignments:
            w("")
            w("Published turfs assigned (list numbers, for the packet and sync endpoints):")
            by_user: dict[str, list[str]] = {}
            for username, list_number in result.assignments:
                by_user.setdefault(username, []).append(list_number)
            for username, numbers in by_user.items():
                w(f"  {username:<12} {', '.join(numbers)}")
        w("")
        w("Get a token and list campaigns:")
        w(
            f"  TOKEN=$(curl -s -X POST {base}/api/auth/token/ "
            "-H 'Content-Type: application/json' "
            '-d \'{"username":"director","password":"demo-director"}\' '
            "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')"
        )
        w(f'  curl -s -H "Authorization: Token $TOKEN" {base}/api/campaigns/')
        w(
            f'  curl -s -H "Authorization: Token $TOKEN" '
            f"{base}/api/campaigns/{result.campaign.pk}/districts/"
        )
        w(f"API docs: {base}/api/docs/   Admin: {base}/admin/")
