"""Voter-file import benchmark: the product's streaming importer vs a naive row-by-row peer.

    .venv/bin/python bench/import_voters.py [--rows 100000] [--naive-rows 5000] [--seed 7]

1. Generates (seeded, deterministic) a VAN-style voter file whose addresses are the Cambridge
   doors (../shared/data/cambridge/address/doors.csv), with realistic variants: "Street" for
   "St", "Apt 3" / "#3" / "Unit 3", lower case, and ~3% that match nothing (misspelled street or
   a house number that does not exist).
2. Imports the Cambridge doors into a fresh SQLite database (temp file).
3. In a child process per method (so peak RSS is per method), on a copy of that database:
   - `voters_import` (product): streams, batches of 2,000, in-memory door index;
   - naive peer: per row, a `Household` lookup by address key and `Person.objects.update_or_create`
     in one transaction; run on the first `--naive-rows` rows and extrapolated linearly to the
     full file (said so in the table).
4. Prints one table: method, rows, seconds, rows/s, peak RSS, match rate.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOORS = ROOT.parent / "shared" / "data" / "cambridge" / "address" / "doors.csv"

FIRST = [
    "Maria",
    "James",
    "Wei",
    "Aisha",
    "John",
    "Ana",
    "Luis",
    "Mei",
    "Omar",
    "Grace",
    "Ivan",
    "Fatima",
    "Carlos",
    "Nora",
    "Sam",
    "Lena",
]
LAST = [
    "Silva",
    "Chen",
    "Okafor",
    "Murphy",
    "Nguyen",
    "Garcia",
    "Cohen",
    "Patel",
    "Rossi",
    "Kim",
    "Santos",
    "Walsh",
    "Haddad",
]
PARTIES = ["D"] * 45 + ["U"] * 40 + ["R"] * 10 + ["J", "L", "W"] + ["O"] * 2
FULL = {"St": "Street", "Ave": "Avenue", "Rd": "Road", "Pl": "Place", "Ter": "Terrace"}


def django_setup(db_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "1"
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    import django

    django.setup()


def generate(path: Path, rows: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    with DOORS.open(newline="", encoding="utf-8") as fh:
        doors = list(csv.DictReader(fh))
    weights = [max(1, int(d["units_est"] or 1)) for d in doors]
    kinds = {"exact": 0, "variant": 0, "unit": 0, "bad": 0}
    with path.open("w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        w.writerow(
            [
                "VANID",
                "LastName",
                "FirstName",
                "MiddleName",
                "Suffix",
                "Address",
                "City",
                "State",
                "Zip5",
                "Party",
                "Sex",
                "Age",
                "Phone",
                "Email",
            ]
        )
        picks = rng.choices(range(len(doors)), weights=weights, k=rows)
        for i, d_index in enumerate(picks):
            d = doors[d_index]
            number, street = d["house_number"].strip(), d["street"]
            roll = rng.random()
            if roll < 0.03:
                kinds["bad"] += 1
                if rng.random() < 0.5:
                    street = street[:2] + street[3:2:-1] + street[2] + street[4:] + "x"
                else:
                    number = str(9000 + rng.randrange(999))
            elif roll < 0.40:
                kinds["variant"] += 1
                parts = street.split()
                parts[-1] = FULL.get(parts[-1], parts[-1])
                street = " ".join(parts)
            address = f"{number} {street}"
            if int(d["units_est"] or 1) > 1 and rng.random() < 0.6:
                kinds["unit"] += 1
                unit = rng.randrange(1, int(d["units_est"]) + 1)
                address += rng.choice([f" Apt {unit}", f" #{unit}", f" Unit {unit}"])
            if rng.random() < 0.1:
                address = address.lower()
            first, last = rng.choice(FIRST), rng.choice(LAST)
            w.writerow(
                [
                    f"{100000 + i}",
                    last,
                    first,
                    rng.choice(["", "A", "J", "M"]),
                    rng.choice([""] * 20 + ["Jr"]),
                    address,
                    "Cambridge",
                    "MA",
                    "02139",
                    rng.choice(PARTIES),
                    rng.choice("MFX"),
                    str(rng.randint(18, 95)),
                    f"617555{rng.randrange(10000):04d}",
                    f"{first}.{last}{i}@example.org".lower() if rng.random() < 0.3 else "",
                ]
            )
    kinds["exact"] = rows - kinds["variant"] - kinds["bad"]
    return kinds


def child(method: str, db: Path, voters: Path, limit: int) -> None:
    django_setup(db)
    from canvass.imports.voters import voters_import
    from canvass.models import Organization

    org = Organization.objects.get(slug="bench")
    started = time.perf_counter()
    cpu_started = time.process_time()
    if method == "rerun":
        voters_import(organization=org, path=voters, preset="van")
        started, cpu_started = time.perf_counter(), time.process_time()
    if method in {"product", "rerun"}:
        run = voters_import(organization=org, path=voters, preset="van", progress=_every(10))
        rows, matched = run.total_rows, run.matched_count
        print(
            f"{method}: created {run.created_count:,}, updated {run.updated_count:,}, "
            f"unchanged {run.unchanged_count:,}, matched {run.matched_count:,} "
            f"(building-level {run.options['matched_building']:,}), "
            f"unmatched {run.unmatched_count:,}; issues {run.options['issues']}",
            file=sys.stderr,
        )
        for issue in run.issues.filter(code="unmatched_address")[:3]:
            print(f"  unmatched sample: {issue.message}", file=sys.stderr)
    else:
        rows, matched = naive_import(org, voters, limit)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"rows": rows, "seconds": seconds, "cpu": cpu, "peak_mb": peak_mb, "matched": matched}
        )
    )


def _every(n: int):  # type: ignore[no-untyped-def]
    count = [0]

    def say(message: str) -> None:
        count[0] += 1
        if count[0] % n == 0:
            print(message, file=sys.stderr, flush=True)

    return say


def naive_import(org, voters: Path, limit: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The peer: what a first Django implementation does, one row at a time."""
    from django.db import transaction

    from canvass.models import Person
    from turf.addresses import address_key, building_address_key, parse_address_line
    from turf.models import Household

    rows = matched = 0
    with voters.open(newline="", encoding="utf-8") as fh, transaction.atomic():
        for row in csv.DictReader(fh):
            if rows >= limit:
                break
            rows += 1
            parsed = parse_address_line(row["Address"])
            household = None
            if parsed:
                key = address_key(parsed.number, parsed.street, parsed.unit)
                qs = Household.objects.filter(organization=org)
                household = (
                    qs.filter(address_key=key).first()
                    or qs.filter(address_key=building_address_key(key)).first()
                )
            matched += household is not None
            Person.objects.update_or_create(
                organization=org,
                external_voter_id=row["VANID"],
                defaults={
                    "household": household,
                    "first_name": row["FirstName"],
                    "last_name": row["LastName"],
                    "middle_name": row["MiddleName"],
                    "suffix": row["Suffix"],
                    "party": row["Party"],
                    "sex": row["Sex"],
                    "year_of_birth": 2026 - int(row["Age"]),
                    "phone": row["Phone"],
                    "email": row["Email"],
                },
            )
    return rows, matched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--naive-rows", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", choices=["product", "rerun", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--voters", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db, args.voters, args.naive_rows)
        return
    if not DOORS.exists():
        sys.exit(f"Cambridge doors not found at {DOORS}")

    tmp = Path(tempfile.mkdtemp(prefix="bench-voters-"))
    try:
        voters = tmp / "voters.csv"
        t = time.perf_counter()
        kinds = generate(voters, args.rows, args.seed)
        print(f"generated {args.rows:,} voters in {time.perf_counter() - t:.1f} s: {kinds}")

        base = tmp / "base.sqlite3"
        django_setup(base)
        from django.core.management import call_command

        from canvass.services import organization_create
        from turf.imports.doors import doors_import

        call_command("migrate", verbosity=0)
        org = organization_create(name="Bench", slug="bench")
        t = time.perf_counter()
        run = doors_import(organization=org, path=DOORS, preset="cambridge", assign=False)
        print(f"doors: {run.created_count:,} imported in {time.perf_counter() - t:.1f} s")
        from django.db import connections

        connections.close_all()

        results = {}
        for method in ("product", "rerun", "naive"):
            db = tmp / f"{method}.sqlite3"
            shutil.copy(base, db)
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    method,
                    "--db",
                    str(db),
                    "--voters",
                    str(voters),
                    "--naive-rows",
                    str(args.naive_rows),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            sys.stderr.write(out.stderr[-2000:])
            results[method] = json.loads(out.stdout.strip().splitlines()[-1])

        print()
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print("| method | rows | seconds | CPU s | rows/s | peak RSS | match rate |")
        print("|---|---|---|---|---|---|---|")
        for method, label in (
            ("product", "voters_import (stream, batches of 2,000, door index)"),
            ("rerun", "voters_import again, same file (idempotent: 0 created, 0 updated)"),
            ("naive", "naive: per-row lookup + update_or_create"),
        ):
            r = results[method]
            rate = r["rows"] / r["seconds"]
            rows, seconds, cpu = r["rows"], r["seconds"], r["cpu"]
            note = ""
            if method == "naive" and rows < args.rows:
                note = f" (measured {rows:,} rows in {seconds:.1f} s, extrapolated)"
                cpu = cpu * args.rows / rows
                seconds = args.rows / rate
                rows = args.rows
            print(
                f"| {label}{note} | {rows:,} | {seconds:.1f} | {cpu:.1f} | {rate:,.0f} | "
                f"{r['peak_mb']:.0f} MB | {r['matched'] / r['rows']:.1%} |"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
