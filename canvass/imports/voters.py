"""The voter file: people from CSV, matched to doors by normalised address (offline geocoding).

Mapping: Person fields -> CSV columns. Fields: `external_voter_id` (required: the upsert key),
`first_name`, `middle_name`, `last_name`, `suffix`, `sex`, `year_of_birth` or `age`, `party`,
`phone`, `email`, `language`, `registration_status`, and the address: either `address` (one line,
"14 Aberdeen Ave Apt 3") or `house_number` + `street` (+ `unit`); `city`, `state`, `zip_code` are
read but not used for matching (a voter file covers one organisation's universe). A value written
`=text` is a constant. With a *preset*, columns the file does not have are skipped (except the id
and the address); with an explicit *mapping*, every named column must exist.

Presets: `van` (a VAN-style export: VANID, LastName, FirstName, MiddleName, Suffix, Address,
City, State, Zip5, Party, Sex, Age, Phone, Email) and `project` (columns named like the fields).

Matching (`turf.addresses`): the row's key `NUMBER|STREET|UNIT` must equal a door's
`address_key`. Building rule: when the unit matches no door (or the door list has no units, like
the Cambridge address points) but the building address `NUMBER|STREET|` does, the person goes to
the building's door without a unit if there is one, else to the building's door with the lowest
id; these count as matched and are counted apart in `options["matched_building"]`.

Unmatched rows: the person IS imported, with `household` NULL (the voter exists; nobody will
knock for them until an address point exists), and an ImportRowIssue `unmatched_address` is
recorded with the raw row, so the list can be downloaded, fixed and re-imported. Rows without an
id (`missing_value`) or repeating an id (`duplicate_id`) are not imported and are reported.

`age` becomes `year_of_birth` = the import's calendar year - age (a file re-imported in a later
year updates everyone's year by one: give `year_of_birth` when the file has it).

Idempotent: upsert on (organization, external_voter_id); a re-run creates 0, updates only the
people whose values changed, counts the rest unchanged. Streams the CSV and writes in batches of
BATCH rows; memory is bounded by the door index (one dict entry per door) and the set of ids
seen (duplicate detection): about 150 MB for 1,000,000 doors and 1,000,000 voters.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from canvass.models import (
    ImportKind,
    ImportRun,
    Organization,
    Party,
    Person,
    PersonSource,
    RegistrationStatus,
)
from turf.addresses import address_key, building_address_key, parse_address_line
from turf.imports.common import (
    BATCH,
    CsvRows,
    ImportFailed,
    IssueBuffer,
    Progress,
    Source,
    external_ids_map,
    import_run_execute,
    import_run_start,
    mapped_value,
    mapping_columns,
    open_binary,
    rows_insert,
)
from turf.imports.doors import resolve_mapping
from turf.models import Household

VOTER_FIELDS = (
    "external_voter_id",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "sex",
    "year_of_birth",
    "age",
    "party",
    "phone",
    "email",
    "language",
    "registration_status",
    "address",
    "house_number",
    "street",
    "unit",
    "city",
    "state",
    "zip_code",
)

VOTER_PRESETS: dict[str, dict[str, str]] = {
    "van": {
        "external_voter_id": "VANID",
        "last_name": "LastName",
        "first_name": "FirstName",
        "middle_name": "MiddleName",
        "suffix": "Suffix",
        "address": "Address",
        "city": "City",
        "state": "State",
        "zip_code": "Zip5",
        "party": "Party",
        "sex": "Sex",
        "age": "Age",
        "phone": "Phone",
        "email": "Email",
    },
    "project": {
        f: f
        for f in VOTER_FIELDS
        if f not in {"age", "address"}  # the project's format has year_of_birth and split parts
    },
}

# Person fields the import writes (and compares to decide "unchanged").
_WRITTEN = (
    "household_id",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "sex",
    "year_of_birth",
    "party",
    "phone",
    "email",
    "language",
    "registration_status",
)

_PARTY_WORDS = {
    "DEMOCRAT": Party.DEMOCRATIC,
    "DEMOCRATIC": Party.DEMOCRATIC,
    "DEM": Party.DEMOCRATIC,
    "REPUBLICAN": Party.REPUBLICAN,
    "REP": Party.REPUBLICAN,
    "UNENROLLED": Party.UNENROLLED,
    "UNAFFILIATED": Party.UNENROLLED,
    "INDEPENDENT": Party.UNENROLLED,
    "NONE": Party.UNENROLLED,
    "LIBERTARIAN": Party.LIBERTARIAN,
    "GREEN": Party.GREEN_RAINBOW,
    "GREEN-RAINBOW": Party.GREEN_RAINBOW,
    "G": Party.GREEN_RAINBOW,
    "WORKERS": Party.WORKERS,
}
_NON_DIGITS = re.compile(r"[^\d+]")
_PARTY_CODES = frozenset(Party.values)
_STATUSES = frozenset(RegistrationStatus.values)


def normalize_party(value: str) -> str:
    text = value.strip().upper()
    if not text:
        return ""
    if text in _PARTY_CODES:
        return text
    # .value: a plain str (psycopg dumps Enum members by *name*).
    return _PARTY_WORDS.get(text, Party.OTHER).value


def _check_mapping(mapping: dict[str, str]) -> None:
    unknown = sorted(set(mapping) - set(VOTER_FIELDS))
    if unknown:
        raise ImportFailed(
            f"Unknown voter field(s) in the mapping: {', '.join(unknown)} "
            f"(known: {', '.join(VOTER_FIELDS)}).",
            code="invalid_mapping",
            fields={"unknown_fields": unknown},
        )
    if "external_voter_id" not in mapping:
        raise ImportFailed("The mapping needs an external_voter_id column.", code="invalid_mapping")
    if "address" not in mapping and "street" not in mapping:
        raise ImportFailed(
            "The mapping needs an address column (or house_number and street).",
            code="invalid_mapping",
        )


class DoorIndex:
    """address_key -> door id, and building key -> the building's door (see the module rule)."""

    def __init__(self, organization: Organization) -> None:
        self.by_key: dict[str, int] = {}
        self.by_building: dict[str, int] = {}
        rows = (
            Household.objects.filter(organization=organization)
            .order_by("id")
            .values_list("id", "address_key")
            .iterator(chunk_size=10_000)
        )
        for pk, key in rows:
            self.by_key.setdefault(key, pk)
            building = building_address_key(key) if key.count("|") == 2 else key
            if key == building:
                # A door without a unit is the building's door, whatever came first.
                self.by_building[building] = pk
            else:
                self.by_building.setdefault(building, pk)

    def match(self, key: str) -> tuple[int | None, str]:
        """(door id or None, "exact" | "building" | "")."""
        pk = self.by_key.get(key)
        if pk is not None:
            return pk, "exact"
        pk = self.by_building.get(building_address_key(key))
        if pk is not None:
            return pk, "building"
        return None, ""


def voters_import(
    *,
    organization: Organization,
    path: Source,
    preset: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str = "utf-8",
    created_by: AbstractBaseUser | None = None,
    progress: Progress | None = None,
) -> ImportRun:
    """Upsert people from a voter-file CSV and match them to doors; see the module docstring.

    Raises ImportFailed (nothing stored, the run marked failed) on a bad encoding, missing
    columns or malformed CSV. Returns the succeeded ImportRun: total/created/updated/unchanged,
    matched/unmatched counts, error_count (rows not imported), `options["matched_building"]`.
    """
    preset_name, columns = resolve_mapping(preset=preset, mapping=mapping, presets=VOTER_PRESETS)
    _check_mapping(columns)
    run = import_run_start(
        organization=organization,
        kind=ImportKind.VOTERS,
        source=path,
        preset=preset_name,
        options={"mapping": columns, "encoding": encoding},
        created_by=created_by,
    )

    def work(run: ImportRun) -> None:
        index = DoorIndex(organization)
        if progress:
            progress(f"Door index: {len(index.by_key):,} doors")
        with open_binary(path) as fh:
            reader = CsvRows(fh, encoding=encoding, label="voter file")
            used = dict(columns)
            if preset_name and not mapping:
                # Presets: optional columns the file lacks are skipped.
                essential = {"external_voter_id", "address", "house_number", "street"}
                used = {
                    f: c
                    for f, c in columns.items()
                    if f in essential or c.startswith("=") or c in reader.header
                }
            reader.require(mapping_columns(used))
            writer = _VoterWriter(
                run=run, organization=organization, mapping=used, index=index, progress=progress
            )
            for line, row in reader:
                writer.take(line, row)
            writer.finish()
        c = writer.counts
        run.total_rows = c["total"]
        run.created_count = c["created"]
        run.updated_count = c["updated"]
        run.unchanged_count = c["unchanged"]
        run.matched_count = c["matched"]
        run.unmatched_count = c["unmatched"]
        run.error_count = c["errors"]
        run.options = {
            **run.options,
            "mapping": used,
            "columns": reader.header,
            "matched_building": c["matched_building"],
            "issues": writer.issues.counts,
        }

    return import_run_execute(run, work, analyze=[Person])


class _VoterWriter:
    def __init__(
        self,
        *,
        run: ImportRun,
        organization: Organization,
        mapping: dict[str, str],
        index: DoorIndex,
        progress: Progress | None,
    ) -> None:
        self.organization = organization
        self.mapping = mapping
        self.index = index
        self.progress = progress
        self.issues = IssueBuffer(run)
        self.seen: set[str] = set()
        self.year = timezone.now().year
        self.batch: dict[str, dict[str, Any]] = {}
        self.known = external_ids_map(Person, organization=organization, field="external_voter_id")
        self.counts = dict.fromkeys(
            (
                "total",
                "created",
                "updated",
                "unchanged",
                "matched",
                "matched_building",
                "unmatched",
                "errors",
            ),
            0,
        )

    def _value(self, row: dict[str, str], field: str) -> str:
        return mapped_value(row, self.mapping, field)

    def take(self, line: int, row: dict[str, str]) -> None:
        c = self.counts
        c["total"] += 1
        ext = self._value(row, "external_voter_id")
        if not ext:
            c["errors"] += 1
            self.issues.add(line, "missing_value", f"line {line}: no voter id; not imported.", row)
            return
        if len(ext) > 64:
            c["errors"] += 1
            self.issues.add(
                line, "invalid_value", f"line {line}: voter id longer than 64; not imported.", row
            )
            return
        if ext in self.seen:
            c["errors"] += 1
            self.issues.add(
                line, "duplicate_id", f"line {line}: voter id {ext!r} repeated; skipped.", row
            )
            return
        self.seen.add(ext)

        values = self._person_values(line, row)
        if "address" in self.mapping:
            line_text = self._value(row, "address")
            parsed = parse_address_line(line_text)
            key = address_key(parsed.number, parsed.street, parsed.unit) if parsed else ""
            shown = line_text
        else:
            number = self._value(row, "house_number")
            street = self._value(row, "street")
            unit = self._value(row, "unit")
            key = address_key(number, street, unit) if street else ""
            shown = " ".join(p for p in (number, street, unit) if p)
        household_id, how = self.index.match(key) if key else (None, "")
        if household_id is None:
            c["unmatched"] += 1
            self.issues.add(
                line,
                "unmatched_address",
                f"line {line}: address {shown!r} matches no door"
                + (f" (key {key})" if key else " (no house number)")
                + "; person imported without a household.",
                row,
            )
        else:
            c["matched"] += 1
            if how == "building":
                c["matched_building"] += 1
        values["household_id"] = household_id
        self.batch[ext] = values
        if len(self.batch) >= BATCH:
            self.flush()

    def _person_values(self, line: int, row: dict[str, str]) -> dict[str, Any]:
        v = self._value
        year: int | None = None
        raw_year = v(row, "year_of_birth")
        raw_age = v(row, "age")
        try:
            if raw_year:
                year = int(float(raw_year))
            elif raw_age:
                year = self.year - int(float(raw_age))
        except ValueError:
            year = None
        if year is not None and not (1880 <= year <= self.year):
            year = None
        if year is None and (raw_year or raw_age):
            self.issues.add(
                line,
                "invalid_value",
                f"line {line}: year of birth/age {raw_year or raw_age!r} is not a plausible "
                f"number; stored empty.",
                row,
            )
        email = v(row, "email").lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                self.issues.add(
                    line,
                    "invalid_value",
                    f"line {line}: email {email!r} is invalid; stored empty.",
                    row,
                )
                email = ""
        status = v(row, "registration_status").lower()
        if status not in _STATUSES:
            status = RegistrationStatus.REGISTERED.value
        return {
            "first_name": v(row, "first_name")[:100],
            "middle_name": v(row, "middle_name")[:100],
            "last_name": v(row, "last_name")[:100],
            "suffix": v(row, "suffix")[:20],
            "sex": v(row, "sex").upper()[:8],
            "year_of_birth": year,
            "party": normalize_party(v(row, "party")),
            "phone": _NON_DIGITS.sub("", v(row, "phone"))[:32],
            "email": email[:254],
            "language": v(row, "language")[:32],
            "registration_status": status,
        }

    def finish(self) -> None:
        self.flush()
        self.issues.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        c = self.counts
        pks = [self.known[ext] for ext in self.batch if ext in self.known]
        existing = {
            p.external_voter_id: p
            for p in Person.objects.filter(pk__in=pks).only("id", "external_voter_id", *_WRITTEN)
        }
        new: list[dict[str, Any]] = []
        changed: list[Person] = []
        now = timezone.now()
        for ext, values in self.batch.items():
            person = existing.get(ext)
            if person is None:
                new.append(
                    {
                        "organization_id": self.organization.pk,
                        "external_voter_id": ext,
                        "source": PersonSource.VOTER_FILE.value,
                        **values,
                    }
                )
                continue
            if all(getattr(person, f) == values[f] for f in _WRITTEN):
                c["unchanged"] += 1
                continue
            for f in _WRITTEN:
                setattr(person, f, values[f])
            # bulk_update skips auto_now: set it, sync pulls rely on updated_at.
            person.updated_at = now
            changed.append(person)
        if new:
            rows_insert(Person, new)
            c["created"] += len(new)
        if changed:
            Person.objects.bulk_update(changed, [*_WRITTEN, "updated_at"], batch_size=500)
            c["updated"] += len(changed)
        self.batch.clear()
        if self.progress:
            self.progress(
                f"  {c['total']:,} rows: {c['created']:,} created, {c['updated']:,} updated, "
                f"{c['unchanged']:,} unchanged; {c['matched']:,} matched, "
                f"{c['unmatched']:,} unmatched"
            )
