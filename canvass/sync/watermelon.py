"""The WatermelonDB sync protocol (DESIGN.md §6), for React Native apps on `@nozbe/watermelondb`.

Two operations, both scoped to ONE campaign and to the turfs assigned to the caller:

- `watermelon_pull`  → `{"changes": {<table>: {"created", "updated", "deleted"}}, "timestamp"}`
- `watermelon_push`  → applies the device's `changes` all-or-nothing (one transaction).

Campaign selection
    A user may hold roles in several campaigns; the `campaign_id` query parameter picks one. It
    may be left out only when the user has exactly one membership. Viewers never sync (no PII);
    every other role syncs the turfs assigned to *them* (a director knocking doors is a
    canvasser for the protocol).

Wire format (every table)
    `id` is a string: the decimal primary key for server-born rows, the lowercase hyphenated
    UUID for rows born on a device (contacts, sign-ups, people added at the door). Devices must
    generate ids in exactly that form (`crypto.randomUUID()`), so that the id the server sends
    back is byte-for-byte the id the device holds. Foreign keys are `<x>_id` strings; times are
    JSON numbers of milliseconds since the epoch; JSON-valued columns (answers, interests,
    availability, show_if_option_ids) travel as JSON-encoded *strings*, because WatermelonDB
    columns are strings, numbers or booleans. Numbers are JSON numbers, never strings.

Tables and columns (`COLUMNS`; `*` = a device may write it)
    households         id, turf_id, walk_position, house_number, street, unit, city, state,
                       zip_code, lon, lat, building_key, units_est, is_final, final_reason,
                       updated_at                                              (read-only)
    people             id, household_id*, first_name*, middle_name*, last_name*, suffix*,
                       year_of_birth*, party, phone*, email*, language*, registration_status,
                       is_deceased, has_moved, source, updated_at
                       (names and year of birth only when the device *creates* the person at
                       the door; an update may change phone, email, language: corrections.
                       phone/email are null unless the campaign shows phones to canvassers,
                       party is null unless it shows party)
    questions          id, script_id, key, prompt, kind, position, is_builtin,
                       show_if_question_id, show_if_option_ids, updated_at      (read-only)
    response_options   id, question_id, value, label, position, updated_at     (read-only)
    result_codes       id, code, label, is_contact, is_final, position, is_active,
                       updated_at                                              (read-only)
    contacts           id*, household_id*, person_id*, turf_id*, result_code_id*,
                       supporter_id*, answers*, notes*, device_time*, gps_lon*, gps_lat*,
                       gps_accuracy_m*, canvasser_id, received_at
                       (create only; notes of other canvassers' knocks are blanked)
    volunteer_signups  id*, household_id*, person_id*, kind*, interests*, first_name*,
                       last_name*, email*, phone*, availability*, workplace*, employer*,
                       union*, industry*, notes*, device_time*, updated_at     (create, update)

Scope
    households: the doors of the turfs of the caller's assignments in force *now* (published
    turf, started, not ended, not expired); people: the residents of those doors; contacts and
    sign-ups: the campaign's ones at those doors; questions and options: the campaign's active
    script; result codes: the campaign's (inactive ones included, so old contacts resolve).
    Another campaign's or organization's rows are never sent.

Timestamps and the consistent snapshot (the commit-order race)
    `updated_at`/`received_at` are stamped by the application *before* its transaction
    commits, so a row stamped at t may become visible after a pull that ran at t' > t; a naive
    `updated_at > last_pulled_at` would then skip it forever. We keep the returned `timestamp`
    honest (the pull instant, floored to the millisecond, never below the `last_pulled_at` it
    was given, so it never goes backwards) and instead look back a *safety margin* M
    (`settings.SYNC_PULL_MARGIN_SECONDS`, default 60 s) on the next pull: the window is
    `(last_pulled_at - M, timestamp]`. Rows in the margin may have been delivered already, so
    they are re-sent as `updated`, never `created`; WatermelonDB applies a repeated update
    idempotently. Rows stamped after `timestamp` (but committed before our reads) are held back
    to the next pull, so a record sent as `created` was certainly never sent before. The
    guarantee: a row whose transaction commits within M of its stamp is never skipped. Our own
    services keep transactions short (milliseconds); M also absorbs clock skew between app
    servers. We chose this over a DB-side commit-ordered sequence because every writer in the
    code base (imports, staff edits, merges) already maintains `updated_at`, and a global
    sequence row would serialise all of them.

    Scope changes follow from Assignment history: the assignments that were possibly in force
    during `[last_pulled_at - M, last_pulled_at]` against those in force now. Doors that left
    scope (turf reassigned, assignment ended or expired, turf archived) come back as `deleted`
    with their people, contacts and sign-ups; doors that entered scope come back in full, as
    `created` when the device cannot have held them.

created vs updated
    `created` only for rows the device cannot already hold; rows that this device created
    (its `X-Device-Id`: a contact's `device_id`, the sync ledger entry of a new person or a
    sign-up) always come back as `updated`, so WatermelonDB never logs "already exists".

Push
    All-or-nothing: one transaction, any bad record → 4xx and nothing is written. `_status`
    and `_changed` are ignored. Read-only tables with any record → 400 `read_only_table`;
    `deleted` lists must be empty (400 `delete_not_allowed`: the server never deletes canvassing
    records on a device's word). A `created` record that already exists is applied as an update
    (a no-op when identical). A people or sign-up record that changed on the server after
    `last_pulled_at` and differs from what the device pushes → 409 `sync_conflict`: the client
    pulls (its local edits win column by column) and pushes again. Contacts are append-only and
    never conflict: the first version the server accepted is kept, and a re-pushed or "updated"
    contact of the same canvasser is acknowledged without change (rejecting it would wedge the
    device's sync forever, while its later knocks still need to flow). Contacts, sign-ups and
    new people go through the same merge services as the native batch API
    (`canvass.sync.merge`).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from canvass.access import AnyUser, membership_require
from canvass.errors import DomainError, Forbidden, InvalidInput
from canvass.models import (
    Campaign,
    ContactAttempt,
    Membership,
    Person,
    Question,
    ResponseOption,
    ResultCode,
    Role,
    Script,
    SyncItemKind,
    SyncLedgerEntry,
    VolunteerSignup,
)
from turf.models import Assignment, Household, TurfDoor, TurfStatus, assignment_in_force

SCHEMA_VERSION = 1

TABLES: tuple[str, ...] = (
    "households",
    "people",
    "questions",
    "response_options",
    "result_codes",
    "contacts",
    "volunteer_signups",
)
READ_ONLY_TABLES = frozenset({"households", "questions", "response_options", "result_codes"})

COLUMNS: dict[str, tuple[str, ...]] = {
    "households": (
        "id",
        "turf_id",
        "walk_position",
        "house_number",
        "street",
        "unit",
        "city",
        "state",
        "zip_code",
        "lon",
        "lat",
        "building_key",
        "units_est",
        "is_final",
        "final_reason",
        "updated_at",
    ),
    "people": (
        "id",
        "household_id",
        "first_name",
        "middle_name",
        "last_name",
        "suffix",
        "year_of_birth",
        "party",
        "phone",
        "email",
        "language",
        "registration_status",
        "is_deceased",
        "has_moved",
        "source",
        "updated_at",
    ),
    "questions": (
        "id",
        "script_id",
        "key",
        "prompt",
        "kind",
        "position",
        "is_builtin",
        "show_if_question_id",
        "show_if_option_ids",
        "updated_at",
    ),
    "response_options": ("id", "question_id", "value", "label", "position", "updated_at"),
    "result_codes": (
        "id",
        "code",
        "label",
        "is_contact",
        "is_final",
        "position",
        "is_active",
        "updated_at",
    ),
    "contacts": (
        "id",
        "household_id",
        "person_id",
        "turf_id",
        "result_code_id",
        "supporter_id",
        "answers",
        "notes",
        "device_time",
        "gps_lon",
        "gps_lat",
        "gps_accuracy_m",
        "canvasser_id",
        "received_at",
    ),
    "volunteer_signups": (
        "id",
        "household_id",
        "person_id",
        "kind",
        "interests",
        "first_name",
        "last_name",
        "email",
        "phone",
        "availability",
        "workplace",
        "employer",
        "union",
        "industry",
        "notes",
        "device_time",
        "updated_at",
    ),
}
# WatermelonDB bookkeeping columns a device sends with every record; ignored.
IGNORED_COLUMNS = frozenset({"_status", "_changed", "created_at"})

PERSON_CREATE_COLUMNS = (
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "year_of_birth",
    "phone",
    "email",
    "language",
)
PERSON_CORRECTION_COLUMNS = ("phone", "email", "language")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_INT_ID_RE = re.compile(r"^[1-9][0-9]{0,17}$")
# A last_pulled_at further ahead of our clock than this is garbage, not clock skew.
_MAX_FUTURE = timedelta(days=1)


class SyncConflict(DomainError):
    status = 409
    code = "sync_conflict"


# --------------------------------------------------------------------------------------------
# time helpers


def ms_from_datetime(value: datetime) -> int:
    """Milliseconds since the epoch, floored (a row stamped inside the returned millisecond
    counts as "after" it: at worst a spurious 409 and a retry, never a missed change)."""
    return (value - _EPOCH) // timedelta(milliseconds=1)


def datetime_from_ms(value: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=value)


def _ms_or_none(value: datetime | None) -> int | None:
    return None if value is None else ms_from_datetime(value)


def pull_margin() -> timedelta:
    return timedelta(seconds=settings.SYNC_PULL_MARGIN_SECONDS)


# --------------------------------------------------------------------------------------------
# request parsing (shared by the API and tests; raises InvalidInput with stable codes)


@dataclass(frozen=True)
class Migration:
    """WatermelonDB's migration sync info: tables and columns added since schema `from`."""

    from_version: int
    tables: tuple[str, ...] = ()
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)


def last_pulled_at_parse(value: Any, *, field_name: str = "last_pulled_at") -> int | None:
    """A millisecond timestamp the server handed out earlier, or None (first sync).

    Accepts a JSON integer or (from a query string) its decimal text; `null`/empty mean None.
    """
    if value is None or value in ("", "null"):
        return None
    if isinstance(value, bool):
        value = "bool"
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,16}", value):
        value = int(value)
    if not isinstance(value, int) or not 0 < value < 10**14:
        raise InvalidInput(
            f"{field_name} must be a positive integer number of milliseconds or null.",
            code="invalid_last_pulled_at",
            fields={field_name: ["Expected a positive integer (milliseconds) or null."]},
        )
    if datetime_from_ms(value) > timezone.now() + _MAX_FUTURE:
        raise InvalidInput(
            f"{field_name} is in the future: it must be a timestamp this server returned.",
            code="invalid_last_pulled_at",
            fields={field_name: ["In the future."]},
        )
    return value


def schema_version_parse(value: Any) -> int:
    if value is None or value == "":
        return SCHEMA_VERSION
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,6}", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(
            "schema_version must be a positive integer.",
            code="invalid_schema_version",
            fields={"schema_version": ["Expected a positive integer."]},
        )
    return int(value)


def migration_parse(value: Any) -> Migration | None:
    """`migration` query parameter: JSON `null` or `{"from": n, "tables": [...],
    "columns": [{"table": t, "columns": [...]}]}` (WatermelonDB's MigrationSyncChanges)."""
    if value is None or value in ("", "null"):
        return None

    def bad(message: str) -> InvalidInput:
        return InvalidInput(
            f"migration: {message}", code="invalid_migration", fields={"migration": [message]}
        )

    try:
        data = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        raise bad("not valid JSON.") from None
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) - {"from", "tables", "columns"}:
        raise bad('expected an object with "from", "tables" and "columns".')
    from_version = data.get("from")
    if isinstance(from_version, bool) or not isinstance(from_version, int) or from_version < 1:
        raise bad('"from" must be a positive integer.')
    tables = data.get("tables", [])
    if not isinstance(tables, list) or not all(isinstance(t, str) for t in tables):
        raise bad('"tables" must be a list of table names.')
    columns_raw = data.get("columns", [])
    if not isinstance(columns_raw, list):
        raise bad('"columns" must be a list of {"table", "columns"} objects.')
    columns: dict[str, tuple[str, ...]] = {}
    for entry in columns_raw:
        if (
            not isinstance(entry, dict)
            or set(entry) != {"table", "columns"}
            or not isinstance(entry["table"], str)
            or not isinstance(entry["columns"], list)
            or not all(isinstance(c, str) for c in entry["columns"])
        ):
            raise bad('each "columns" entry must be {"table": str, "columns": [str]}.')
        columns[entry["table"]] = tuple(entry["columns"])
    for table in [*tables, *columns]:
        if table not in TABLES:
            raise InvalidInput(
                f"migration names an unknown table {table!r}.",
                code="unknown_table",
                fields={"migration": [f"unknown table {table!r}"]},
            )
    return Migration(from_version=from_version, tables=tuple(tables), columns=columns)


def device_id_parse(value: str | None) -> str:
    """`X-Device-Id`: optional; without it nothing is recognised as this device's own."""
    if value is None:
        return ""
    value = value.strip()
    if len(value) > 100 or not re.fullmatch(r"[A-Za-z0-9._:-]*", value):
        raise InvalidInput(
            "X-Device-Id must be at most 100 characters of letters, digits and . _ : -",
            code="invalid_device_id",
            fields={"X-Device-Id": ["Invalid device id."]},
        )
    return value


def sync_membership_resolve(*, user: AnyUser, campaign_id: str | None) -> Membership:
    """The membership a sync request runs under: `campaign_id`, or the user's only one.

    NotFound for a campaign the user has no role in (never 403, never data); viewers are
    refused (they see aggregates only, DESIGN.md §1).
    """
    if campaign_id in (None, ""):
        ids = list(
            Membership.objects.filter(user__pk=getattr(user, "pk", None) or 0).values_list(
                "campaign_id", flat=True
            )[:2]
        )
        if len(ids) != 1:
            raise InvalidInput(
                "campaign_id is required: you have a role in "
                + ("several campaigns." if ids else "no campaign."),
                code="campaign_required",
                fields={"campaign_id": ["This parameter is required."]},
            )
        campaign_id = str(ids[0])
    membership = membership_require(user=user, campaign_id=campaign_id or "")
    if membership.role == Role.VIEWER:
        raise Forbidden("Viewers do not sync voter data.", code="sync_forbidden")
    return membership


# --------------------------------------------------------------------------------------------
# scope


@dataclass(frozen=True)
class _Scope:
    current: frozenset[int]  # turfs in force now
    sure: frozenset[int]  # turfs in force at last_pulled_at - M: the device surely holds them
    maybe: frozenset[int]  # turfs possibly in force during [last_pulled_at - M, last_pulled_at]


def _scope(
    *, membership: Membership, now: datetime, since: datetime | None, last: datetime | None
) -> _Scope:
    """Turf sets from the caller's Assignment history, in one query."""
    rows = Assignment.objects.filter(
        campaign_id=membership.campaign_id, canvasser_id=membership.user_id
    ).values_list("turf_id", "created_at", "ended_at", "expires_at", "turf__status")

    current, sure, maybe = set(), set(), set()
    for turf_id, created, ended, expires, status in rows:
        if status == TurfStatus.PUBLISHED and assignment_in_force(created, ended, expires, now):
            current.add(turf_id)
        if since is not None and last is not None:
            # The turf status in the past is unknown; the assignment history decides.
            if assignment_in_force(created, ended, expires, since):
                sure.add(turf_id)
            if (
                created <= last
                and (ended is None or ended > since)
                and (expires is None or expires > since)
            ):
                maybe.add(turf_id)
    return _Scope(frozenset(current), frozenset(sure), frozenset(maybe))


def _doors(turf_ids: Iterable[int]) -> QuerySet[TurfDoor, Any]:
    return TurfDoor.objects.filter(turf_id__in=list(turf_ids)).values("household_id")


# --------------------------------------------------------------------------------------------
# pull


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _empty_changes() -> dict[str, dict[str, list[Any]]]:
    return {t: {"created": [], "updated": [], "deleted": []} for t in TABLES}


def watermelon_pull(
    *,
    membership: Membership,
    device_id: str,
    last_pulled_at: int | None,
    schema_version: int = SCHEMA_VERSION,
    migration: Migration | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The changes since `last_pulled_at` for the caller's turfs, and the new timestamp.

    A constant number of queries whatever the number of rows (about fifteen). See the module
    docstring for the window, the margin and the created/updated/deleted rules.
    """
    del schema_version  # one column set so far (SCHEMA_VERSION); kept for future migrations
    now = now or timezone.now()
    ts = ms_from_datetime(now)
    if last_pulled_at is not None:
        ts = max(ts, last_pulled_at)  # never backwards, even if our clock stepped back
    cap = datetime_from_ms(ts)
    last = datetime_from_ms(last_pulled_at) if last_pulled_at is not None else None
    since = last - pull_margin() if last is not None else None

    # A table added by a client migration is sent in full, as on a first sync; one that gained
    # columns is sent in full as `updated` (the device holds the rows, not the new columns).
    full_tables: dict[str, str] = {}
    if migration is not None and last is not None:
        full_tables.update(dict.fromkeys(migration.tables, "created"))
        for table in migration.columns:
            full_tables.setdefault(table, "updated")

    campaign = membership.campaign
    scope = _scope(membership=membership, now=cap, since=since, last=last)
    builder = _PullBuilder(
        membership=membership,
        device_id=device_id,
        cap=cap,
        since=since,
        last=last,
        scope=scope,
        full_tables=full_tables,
    )
    changes = _empty_changes()
    builder.households(changes["households"])
    people_rows = builder.people(changes["people"])
    contact_rows = builder.contacts(changes["contacts"])
    signup_rows = builder.signups(changes["volunteer_signups"])
    builder.finish_people_ids(changes, people_rows, contact_rows, signup_rows)
    builder.script(changes["questions"], changes["response_options"])
    builder.result_codes(changes["result_codes"], campaign_id=campaign.pk)
    return {"changes": changes, "timestamp": ts}


class _PullBuilder:
    """Builds one pull. Each method issues a fixed number of queries."""

    def __init__(
        self,
        *,
        membership: Membership,
        device_id: str,
        cap: datetime,
        since: datetime | None,
        last: datetime | None,
        scope: _Scope,
        full_tables: dict[str, str],
    ) -> None:
        self.membership = membership
        self.campaign = membership.campaign
        self.user_id = membership.user_id
        self.device_id = device_id
        self.cap = cap
        self.since = since
        self.last = last
        self.scope = scope
        self.full_tables = full_tables
        self.first = last is None
        self.is_canvasser = membership.role == Role.CANVASSER
        self.show_phone = not self.is_canvasser or self.campaign.show_phone_to_canvassers
        self.show_party = not self.is_canvasser or self.campaign.show_party_to_canvassers
        self.current_doors = _doors(scope.current)
        self.left_doors = TurfDoor.objects.filter(turf_id__in=list(scope.maybe)).exclude(
            household_id__in=self.current_doors
        )

    # -- selection helpers ---------------------------------------------------------------------

    def _send_filter(self, table: str, stamp: str, household: str | None) -> Q | None:
        """Which in-scope rows to send: all on a first sync (or a migrated table); else rows
        stamped in the window, plus every row of a door that entered scope."""
        if self.first or table in self.full_tables:
            return Q()
        assert self.since is not None
        q = Q(**{f"{stamp}__gt": self.since})
        if household is not None and self.scope.current - self.scope.sure:
            entering = _doors(self.scope.current - self.scope.sure)
            if self.scope.sure:
                entering = entering.exclude(household_id__in=_doors(self.scope.sure))
            q |= Q(**{f"{household}__in": entering})
        return q

    def _label(
        self, *, table: str, born: datetime | None, household_id: int | None, own: bool
    ) -> str:
        if own:
            return "updated"
        if self.first:
            return "created"
        if table in self.full_tables:
            return self.full_tables[table]
        assert self.last is not None
        # Born after the last pull's cap: that pull cannot have sent it.
        if born is not None and born > self.last:
            return "created"
        # A door the device cannot have held (not in any turf possibly in force back then).
        if household_id is not None and household_id not in self.maybe_household_ids:
            return "created"
        return "updated"

    @property
    def maybe_household_ids(self) -> frozenset[int]:
        cached = getattr(self, "_maybe_ids", None)
        if cached is None:
            if self.scope.maybe:
                cached = frozenset(
                    TurfDoor.objects.filter(turf_id__in=list(self.scope.maybe)).values_list(
                        "household_id", flat=True
                    )
                )
            else:
                cached = frozenset()
            self._maybe_ids = cached
        return cached

    # -- tables ----------------------------------------------------------------------------------

    def households(self, out: dict[str, list[Any]]) -> None:
        send = self._send_filter("households", "updated_at", "pk")
        rows = list(
            Household.objects.filter(pk__in=self.current_doors, updated_at__lte=self.cap)
            .filter(send)
            .order_by("pk")
        )
        # Walk order for the doors we send, in one query (a door in two turfs: the lower turf).
        walk: dict[int, tuple[int | None, int | None]] = {}
        if rows:
            for turf_id, household_id, position in (
                TurfDoor.objects.filter(
                    turf_id__in=list(self.scope.current), household_id__in=[h.pk for h in rows]
                )
                .order_by("-turf_id")
                .values_list("turf_id", "household_id", "position")
            ):
                walk[household_id] = (turf_id, position)
        for h in rows:
            door_turf, walk_pos = walk.get(h.pk, (None, None))
            record: dict[str, Any] = {
                "id": str(h.pk),
                "turf_id": str(door_turf) if door_turf is not None else None,
                "walk_position": walk_pos,
                "house_number": h.house_number,
                "street": h.street,
                "unit": h.unit,
                "city": h.city,
                "state": h.state,
                "zip_code": h.zip_code,
                "lon": h.lon,
                "lat": h.lat,
                "building_key": h.building_key,
                "units_est": h.units_est,
                "is_final": h.is_final,
                "final_reason": h.final_reason,
                "updated_at": ms_from_datetime(h.updated_at),
            }
            out[
                self._label(table="households", born=h.created_at, household_id=h.pk, own=False)
            ].append(record)
        if not self.first and self.scope.maybe:
            out["deleted"] = [
                str(pk)
                for pk in sorted(set(self.left_doors.values_list("household_id", flat=True)))
            ]

    def people(self, out: dict[str, list[Any]]) -> list[Person]:
        send = self._send_filter("people", "updated_at", "household_id")
        rows = list(
            Person.objects.filter(
                organization_id=self.campaign.organization_id,
                household_id__in=self.current_doors,
                updated_at__lte=self.cap,
            )
            .filter(send)
            .order_by("pk")
        )
        self._people_out = out
        if not self.first and self.scope.maybe:
            self._people_deleted = list(
                Person.objects.filter(
                    organization_id=self.campaign.organization_id,
                    household_id__in=self.left_doors.values("household_id"),
                )
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        else:
            self._people_deleted = []
        return rows

    def contacts(self, out: dict[str, list[Any]]) -> list[ContactAttempt]:
        send = self._send_filter("contacts", "received_at", "household_id")
        rows = list(
            ContactAttempt.objects.filter(
                campaign_id=self.campaign.pk,
                household_id__in=self.current_doors,
                received_at__lte=self.cap,
            )
            .filter(send)
            .order_by("received_at", "pk")
        )
        if not self.first and self.scope.maybe:
            out["deleted"] = [
                str(pk)
                for pk in ContactAttempt.objects.filter(
                    campaign_id=self.campaign.pk,
                    household_id__in=self.left_doors.values("household_id"),
                )
                .order_by("pk")
                .values_list("pk", flat=True)
            ]
        self._contacts_out = out
        return rows

    def signups(self, out: dict[str, list[Any]]) -> list[VolunteerSignup]:
        send = self._send_filter("volunteer_signups", "updated_at", "household_id")
        rows = list(
            VolunteerSignup.objects.filter(
                campaign_id=self.campaign.pk,
                household_id__in=self.current_doors,
                updated_at__lte=self.cap,
            )
            .filter(send)
            .order_by("pk")
        )
        if not self.first and self.scope.maybe:
            out["deleted"] = [
                str(pk)
                for pk in VolunteerSignup.objects.filter(
                    campaign_id=self.campaign.pk,
                    household_id__in=self.left_doors.values("household_id"),
                )
                .order_by("pk")
                .values_list("pk", flat=True)
            ]
        self._signups_out = out
        return rows

    def finish_people_ids(
        self,
        changes: dict[str, dict[str, list[Any]]],
        people: list[Person],
        contacts: list[ContactAttempt],
        signups: list[VolunteerSignup],
    ) -> None:
        """Serialise people, contacts and sign-ups once the device-born ids are known: a
        person added at a door keeps the UUID the device gave it (one ledger query)."""
        person_pks = {p.pk for p in people} | set(self._people_deleted)
        person_pks |= {c.person_id for c in contacts if c.person_id}
        person_pks |= {s.person_id for s in signups if s.person_id}
        ledger = list(
            SyncLedgerEntry.objects.filter(campaign__organization_id=self.campaign.organization_id)
            .filter(
                Q(kind=SyncItemKind.NEW_PERSON, object_id__in=[str(pk) for pk in person_pks])
                | Q(
                    campaign_id=self.campaign.pk,
                    kind=SyncItemKind.SIGNUP,
                    object_id__in=[str(s.pk) for s in signups],
                )
            )
            .values_list("kind", "object_id", "client_id", "device_id", "canvasser_id")
        )
        # Sign-ups this device pushed that the merge folded into an existing one: the device
        # holds them under its own id, so it is told to drop that copy (it gets the merged row).
        folded: list[str] = []
        if self.device_id and self.since is not None:
            folded = sorted(
                str(client_id)
                for client_id, object_id in SyncLedgerEntry.objects.filter(
                    campaign_id=self.campaign.pk,
                    kind=SyncItemKind.SIGNUP,
                    device_id=self.device_id,
                    canvasser_id=self.user_id,
                    received_at__gt=self.since,
                    received_at__lte=self.cap,
                ).values_list("client_id", "object_id")
                if str(client_id) != object_id
            )
        person_wire: dict[int, str] = {}
        own_people: set[int] = set()
        own_signups: set[str] = set()
        for kind, object_id, client_id, device, canvasser_id in ledger:
            mine = (
                bool(self.device_id) and device == self.device_id and canvasser_id == self.user_id
            )
            if kind == SyncItemKind.NEW_PERSON:
                person_wire[int(object_id)] = str(client_id)
                if mine:
                    own_people.add(int(object_id))
            elif mine:
                own_signups.add(object_id)

        def pid(pk: int | None) -> str | None:
            return None if pk is None else person_wire.get(pk, str(pk))

        out = self._people_out
        for p in people:
            record: dict[str, Any] = {
                "id": pid(p.pk),
                "household_id": str(p.household_id) if p.household_id else None,
                "first_name": p.first_name,
                "middle_name": p.middle_name,
                "last_name": p.last_name,
                "suffix": p.suffix,
                "year_of_birth": p.year_of_birth,
                "party": p.party if self.show_party else None,
                "phone": p.phone if self.show_phone else None,
                "email": p.email if self.show_phone else None,
                "language": p.language,
                "registration_status": p.registration_status,
                "is_deceased": p.is_deceased,
                "has_moved": p.has_moved,
                "source": p.source,
                "updated_at": ms_from_datetime(p.updated_at),
            }
            label = self._label(
                table="people",
                born=p.created_at,
                household_id=p.household_id,
                own=p.pk in own_people,
            )
            out[label].append(record)
        out["deleted"] = [pid(pk) for pk in self._people_deleted]

        out = self._contacts_out
        for c in contacts:
            mine = c.canvasser_id == self.user_id
            record = {
                "id": str(c.pk),
                "household_id": str(c.household_id),
                "person_id": pid(c.person_id),
                "turf_id": str(c.turf_id) if c.turf_id else None,
                "result_code_id": str(c.result_code_id),
                "supporter_id": c.supporter_id,
                "answers": _json_text(c.answers),
                "notes": c.notes if mine else "",
                "device_time": ms_from_datetime(c.device_time),
                "gps_lon": c.gps_lon,
                "gps_lat": c.gps_lat,
                "gps_accuracy_m": c.gps_accuracy_m,
                "canvasser_id": str(c.canvasser_id),
                "received_at": ms_from_datetime(c.received_at),
            }
            own = mine and bool(self.device_id) and c.device_id == self.device_id
            label = self._label(
                table="contacts", born=c.received_at, household_id=c.household_id, own=own
            )
            out[label].append(record)

        out = self._signups_out
        sent = {str(s.pk) for s in signups} | set(out["deleted"])
        out["deleted"] += [pk for pk in folded if pk not in sent]
        for s in signups:
            record = {
                "id": str(s.pk),
                "household_id": str(s.household_id) if s.household_id else None,
                "person_id": pid(s.person_id),
                "kind": s.kind,
                "interests": _json_text(s.interests),
                "first_name": s.first_name,
                "last_name": s.last_name,
                "email": s.email,
                "phone": s.phone,
                "availability": _json_text(s.availability),
                "workplace": s.workplace,
                "employer": s.employer,
                "union": s.union,
                "industry": s.industry,
                "notes": s.notes,
                "device_time": _ms_or_none(s.device_time),
                "updated_at": ms_from_datetime(s.updated_at),
            }
            label = self._label(
                table="volunteer_signups",
                born=s.created_at,
                household_id=s.household_id,
                own=str(s.pk) in own_signups,
            )
            out[label].append(record)

    def script(
        self, questions_out: dict[str, list[Any]], options_out: dict[str, list[Any]]
    ) -> None:
        script = (
            Script.objects.filter(campaign_id=self.campaign.pk, is_active=True)
            .only("pk", "created_at")
            .first()
        )
        # A new active script (created in the window) replaces the old one wholesale: its
        # questions are new to the device and the older scripts' ones go. Deactivation is a
        # queryset update (no updated_at), so the new script's created_at is the signal.
        new_script = script is not None and (self.since is None or script.created_at > self.since)
        full_q = self.first or new_script or "questions" in self.full_tables
        full_o = self.first or new_script or "response_options" in self.full_tables
        questions: list[Question] = []
        options: list[ResponseOption] = []
        if script is not None:
            qs = Question.objects.filter(script_id=script.pk, updated_at__lte=self.cap)
            if not full_q:
                qs = qs.filter(updated_at__gt=self.since)
            questions = list(qs.prefetch_related("show_if_options").order_by("position", "pk"))
            os_ = ResponseOption.objects.filter(
                question__script_id=script.pk, updated_at__lte=self.cap
            )
            if not full_o:
                os_ = os_.filter(updated_at__gt=self.since)
            options = list(os_.order_by("question_id", "position", "pk"))

        def label(table: str) -> str:
            if self.first:
                return "created"
            if table in self.full_tables:
                return self.full_tables[table]
            assert self.last is not None
            return "created" if script is not None and script.created_at > self.last else "updated"

        for q in questions:
            questions_out[label("questions")].append(
                {
                    "id": str(q.pk),
                    "script_id": str(q.script_id),
                    "key": q.key,
                    "prompt": q.prompt,
                    "kind": q.kind,
                    "position": q.position,
                    "is_builtin": q.is_builtin,
                    "show_if_question_id": (
                        str(q.show_if_question_id) if q.show_if_question_id else None
                    ),
                    "show_if_option_ids": _json_text(
                        sorted(str(o.pk) for o in q.show_if_options.all())
                    ),
                    "updated_at": ms_from_datetime(q.updated_at),
                }
            )
        for o in options:
            options_out[label("response_options")].append(
                {
                    "id": str(o.pk),
                    "question_id": str(o.question_id),
                    "value": o.value,
                    "label": o.label,
                    "position": o.position,
                    "updated_at": ms_from_datetime(o.updated_at),
                }
            )
        if new_script and not self.first and script is not None:
            old = Question.objects.filter(script__campaign_id=self.campaign.pk).exclude(
                script_id=script.pk
            )
            questions_out["deleted"] = [
                str(pk) for pk in old.order_by("pk").values_list("pk", flat=True)
            ]
            options_out["deleted"] = [
                str(pk)
                for pk in ResponseOption.objects.filter(question__in=old.values("pk"))
                .order_by("pk")
                .values_list("pk", flat=True)
            ]

    def result_codes(self, out: dict[str, list[Any]], *, campaign_id: int) -> None:
        qs = ResultCode.objects.filter(campaign_id=campaign_id, updated_at__lte=self.cap)
        full = self.first or "result_codes" in self.full_tables
        if not full:
            qs = qs.filter(updated_at__gt=self.since)
        # ResultCode has no creation time: after the first sync every change is an `updated`
        # (a code added mid-campaign makes WatermelonDB log and create it: harmless).
        label = "created" if self.first else self.full_tables.get("result_codes", "updated")
        for rc in qs.order_by("position", "pk"):
            out[label].append(
                {
                    "id": str(rc.pk),
                    "code": rc.code,
                    "label": rc.label,
                    "is_contact": rc.is_contact,
                    "is_final": rc.is_final,
                    "position": rc.position,
                    "is_active": rc.is_active,
                    "updated_at": ms_from_datetime(rc.updated_at),
                }
            )


# --------------------------------------------------------------------------------------------
# push


@dataclass
class _Record:
    table: str
    op: str  # "created" | "updated"
    index: int
    id: str
    values: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.table}.{self.op}[{self.index}]"


def _bad(code: str, where: str, message: str, status: int = 400) -> InvalidInput:
    error = InvalidInput(f"{where}: {message}", code=code, fields={where: [message]})
    error.status = status
    return error


def changes_parse(changes: Any) -> list[_Record]:
    """Structural validation of a pushed change set; nothing is looked up or written.

    Raises InvalidInput with a stable code: `invalid_changes`, `unknown_table`,
    `read_only_table`, `delete_not_allowed`, `invalid_record`, `invalid_id`, `unknown_column`,
    `duplicate_id`, `too_many_items` (413).
    """
    if not isinstance(changes, dict):
        raise _bad(
            "invalid_changes", "changes", "Expected an object {table: {created, updated, deleted}}."
        )
    records: list[_Record] = []
    for table, ops in changes.items():
        if table not in TABLES:
            raise _bad("unknown_table", f"changes.{table}"[:120], f"Unknown table {table[:60]!r}.")
        if not isinstance(ops, dict) or set(ops) - {"created", "updated", "deleted"}:
            raise _bad(
                "invalid_changes",
                f"changes.{table}",
                'Expected {"created": [], "updated": [], "deleted": []}.',
            )
        for op in ("created", "updated", "deleted"):
            if not isinstance(ops.get(op, []), list):
                raise _bad("invalid_changes", f"changes.{table}.{op}", "Expected a list.")
        if table in READ_ONLY_TABLES and any(
            ops.get(op) for op in ("created", "updated", "deleted")
        ):
            raise _bad("read_only_table", f"changes.{table}", f"{table} is read-only for devices.")
        if ops.get("deleted"):
            raise _bad(
                "delete_not_allowed",
                f"changes.{table}.deleted",
                "The server never deletes canvassing records on a device's word.",
            )
        seen: set[str] = set()
        allowed = set(COLUMNS[table]) | IGNORED_COLUMNS
        for op in ("created", "updated"):
            for index, raw in enumerate(ops.get(op, [])):
                where = f"{table}.{op}[{index}]"
                if not isinstance(raw, dict):
                    raise _bad("invalid_record", where, "Each record must be an object.")
                rid = raw.get("id")
                if not isinstance(rid, str):
                    raise _bad("invalid_id", f"{where}.id", "Record ids are strings.")
                if not (_UUID_RE.fullmatch(rid) or _INT_ID_RE.fullmatch(rid)):
                    raise _bad(
                        "invalid_id",
                        f"{where}.id",
                        "Expected a decimal server id or a lowercase hyphenated UUID.",
                    )
                if op == "created" and not _UUID_RE.fullmatch(rid):
                    raise _bad(
                        "invalid_id",
                        f"{where}.id",
                        "Records created on a device need a lowercase hyphenated UUID id.",
                    )
                unknown = sorted(str(k) for k in set(raw) - allowed)
                if unknown:
                    raise _bad(
                        "unknown_column",
                        f"{where}.{unknown[0]}"[:160],
                        f"Unknown column {unknown[0][:60]!r} for {table}.",
                    )
                if rid in seen:
                    raise _bad("duplicate_id", f"{where}.id", f"Id {rid} appears twice in {table}.")
                seen.add(rid)
                records.append(_Record(table=table, op=op, index=index, id=rid, values=raw))
    if len(records) > settings.SYNC_MAX_ITEMS:
        raise _bad(
            "too_many_items",
            "changes",
            f"At most {settings.SYNC_MAX_ITEMS} records per push; this one has {len(records)}.",
            status=413,
        )
    return records


def _v_str(rec: _Record, name: str, max_length: int = 5000) -> str | None:
    value = rec.values.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise _bad(
            "invalid_value", f"{rec.where}.{name}", f"A string of at most {max_length} characters."
        )
    return value


def _v_int_id(rec: _Record, name: str, *, required: bool = False) -> int | None:
    value = rec.values.get(name)
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str) or not _INT_ID_RE.fullmatch(value):
        raise _bad("invalid_value", f"{rec.where}.{name}", "A decimal id string.")
    return int(value)


def _v_person_ref(rec: _Record, name: str) -> str | None:
    value = rec.values.get(name)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not (_INT_ID_RE.fullmatch(value) or _UUID_RE.fullmatch(value)):
        raise _bad("invalid_value", f"{rec.where}.{name}", "A person id string.")
    return value


def _v_number(rec: _Record, name: str) -> float | int | None:
    value = rec.values.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise _bad("invalid_value", f"{rec.where}.{name}", "A number.")
    return float(value) if isinstance(value, float) else int(value)


def _v_json(rec: _Record, name: str, kind: type) -> Any:
    value = rec.values.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _bad("invalid_value", f"{rec.where}.{name}", "Not valid JSON text.") from None
    if not isinstance(value, kind):
        raise _bad("invalid_value", f"{rec.where}.{name}", f"Expected JSON {kind.__name__}.")
    return value


def _v_time(rec: _Record, name: str, *, required: bool) -> str | None:
    """A device time: milliseconds since the epoch (or ISO 8601 with a UTC offset) → ISO."""
    value = rec.values.get(name)
    if value is None:
        if required:
            raise _bad(
                "invalid_timestamp",
                f"{rec.where}.{name}",
                "Required: milliseconds since the epoch.",
            )
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _bad("invalid_timestamp", f"{rec.where}.{name}", "Not a timestamp.") from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise _bad(
                "naive_timestamp",
                f"{rec.where}.{name}",
                "A time needs a UTC offset (or send milliseconds).",
            )
        return parsed.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**14:
        raise _bad(
            "invalid_timestamp",
            f"{rec.where}.{name}",
            "Milliseconds since the epoch (a positive integer).",
        )
    return datetime_from_ms(value).isoformat()


def _edit_time(rec: _Record) -> str:
    """When the device edited a record: its `updated_at` when it keeps one (WatermelonDB sets
    it only for models declaring it; 0 or absent otherwise), else now."""
    value = rec.values.get("updated_at")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return _v_time(rec, "updated_at", required=False) or timezone.now().isoformat()
    return timezone.now().isoformat()


def _rejected(rec: _Record, receipt: Any) -> InvalidInput:
    fields = {f"{rec.where}.{k}": v for k, v in (receipt.fields or {}).items()} or {
        rec.where: [receipt.message]
    }
    return InvalidInput(
        f"{rec.where}: {receipt.message}", code=receipt.reason or "invalid", fields=fields
    )


def _strip_none(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}


def watermelon_push(
    *,
    membership: Membership,
    device_id: str,
    last_pulled_at: int,
    changes: Any,
    now: datetime | None = None,
) -> dict[str, int]:
    """Apply a device's change set all-or-nothing; returns counts of what changed.

    Raises InvalidInput (4xx with a stable code; nothing written), SyncConflict (409: a record
    changed on the server after `last_pulled_at`; pull and retry), NotFound/Forbidden.
    """
    from canvass.sync import merge  # the merge services both ways in share

    records = changes_parse(changes)
    if not device_id:
        raise InvalidInput(
            "A push needs the X-Device-Id header (the device's stable id).",
            code="device_id_required",
            fields={"X-Device-Id": ["Required for a push."]},
        )
    last = datetime_from_ms(last_pulled_at)
    user = membership.user
    counts = {"contacts": 0, "people": 0, "volunteer_signups": 0, "unchanged": 0}
    by_table: dict[str, list[_Record]] = {t: [] for t in TABLES}
    for rec in records:
        by_table[rec.table].append(rec)

    with transaction.atomic():
        ctx = merge.merge_context_build(
            user=user, device_id=device_id, campaign_id=membership.campaign_id, received_at=now
        )
        if by_table["volunteer_signups"]:
            # Same lock order as the batch API: sign-up dedup is serialised per campaign.
            list(Campaign.objects.select_for_update().filter(pk=ctx.campaign_id).values("pk"))
        pusher = _Pusher(ctx=ctx, merge=merge, last=last, counts=counts)
        pusher.people(by_table["people"])
        pusher.contacts(by_table["contacts"])
        pusher.signups(by_table["volunteer_signups"])
    return counts


class _Pusher:
    def __init__(self, *, ctx: Any, merge: Any, last: datetime, counts: dict[str, int]) -> None:
        self.ctx = ctx
        self.merge = merge
        self.last = last
        self.counts = counts
        self.org_id = ctx.organization_id

    # -- people ----------------------------------------------------------------------------

    def person_pks(self, refs: Iterable[str]) -> dict[str, int]:
        """Wire person ids → primary keys: decimal ids as is (this organization's), device
        UUIDs through the new-person ledger (one query each)."""
        refs = set(refs)
        out: dict[str, int] = {}
        ints = {int(r) for r in refs if _INT_ID_RE.fullmatch(r)}
        if ints:
            for pk in Person.objects.filter(organization_id=self.org_id, pk__in=ints).values_list(
                "pk", flat=True
            ):
                out[str(pk)] = pk
        uuids = [uuid.UUID(r) for r in refs if _UUID_RE.fullmatch(r)]
        if uuids:
            for client_id, object_id in SyncLedgerEntry.objects.filter(
                client_id__in=uuids,
                kind=SyncItemKind.NEW_PERSON,
                campaign__organization_id=self.org_id,
            ).values_list("client_id", "object_id"):
                out[str(client_id)] = int(object_id)
        return out

    def people(self, recs: list[_Record]) -> None:
        updates: list[_Record] = []
        for rec in recs:
            household = _v_int_id(rec, "household_id", required=rec.op == "created")
            year = _v_number(rec, "year_of_birth")
            item = _strip_none(
                {
                    "kind": SyncItemKind.NEW_PERSON,
                    "id": rec.id,
                    "device_time": _edit_time(rec),
                    "household": household,
                    "first_name": _v_str(rec, "first_name", 100),
                    "last_name": _v_str(rec, "last_name", 100),
                    "phone": _v_str(rec, "phone", 32),
                    "email": _v_str(rec, "email", 254),
                    "language": _v_str(rec, "language", 32),
                    "year_of_birth": int(year) if year else None,
                }
            )
            _v_str(rec, "middle_name", 100)
            _v_str(rec, "suffix", 20)
            if rec.op == "created":
                if SyncLedgerEntry.objects.filter(
                    client_id=uuid.UUID(rec.id), kind=SyncItemKind.NEW_PERSON
                ).exists():
                    updates.append(rec)  # created that already exists → update
                    continue
                # The device's updated_at changes with every local edit: keep the hash stable.
                item["device_time"] = timezone.now().isoformat()
                receipt = self.merge.person_create_at_door(ctx=self.ctx, item=item)
                if not receipt.ok:
                    raise _rejected(rec, receipt)
                self.counts["people"] += 1
            else:
                updates.append(rec)
        if not updates:
            return
        pks = self.person_pks(r.id for r in updates)
        people = {
            p.pk: p
            for p in Person.objects.select_for_update().filter(
                organization_id=self.org_id, pk__in=set(pks.values())
            )
        }
        show_phone = (
            self.ctx.membership.role != Role.CANVASSER or self.ctx.campaign.show_phone_to_canvassers
        )
        for rec in updates:
            person = people.get(pks.get(rec.id, -1))
            if person is None:
                raise _bad("unknown_person", f"{rec.where}.id", f"Unknown person {rec.id}.")
            wanted: dict[str, str] = {}
            for name in PERSON_CORRECTION_COLUMNS:
                if name not in rec.values:
                    continue
                value = _v_str(rec, name, 254) or ""
                if name in ("phone", "email") and not show_phone and not value:
                    continue  # hidden on the device (sent as null): not a correction
                if value.strip() != (getattr(person, name) or ""):
                    wanted[name] = value
            if not wanted:
                self.counts["unchanged"] += 1
                continue
            if person.updated_at > self.last:
                raise SyncConflict(
                    f"{rec.where}: person {rec.id} changed on the server after your last pull; "
                    "pull and push again.",
                    fields={rec.where: ["Changed on the server after last_pulled_at."]},
                )
            device_time = _edit_time(rec)
            for name, value in sorted(wanted.items()):
                receipt = self.merge.person_correction_apply(
                    ctx=self.ctx,
                    item={
                        "kind": SyncItemKind.CORRECTION,
                        "id": str(uuid.uuid4()),
                        "device_time": device_time,
                        "person": person.pk,
                        "field": name,
                        "value": value,
                    },
                )
                if not receipt.ok:
                    raise _rejected(rec, receipt)
            self.counts["people"] += 1

    # -- contacts --------------------------------------------------------------------------

    def contacts(self, recs: list[_Record]) -> None:
        if not recs:
            return
        codes = {str(pk): code for code, (pk, _c, _f) in self.ctx.result_codes().items()}
        person_refs = {ref for rec in recs if (ref := _v_person_ref(rec, "person_id")) is not None}
        pks = self.person_pks(person_refs)
        items: list[dict[str, Any]] = []
        for rec in recs:
            code_id = _v_int_id(rec, "result_code_id", required=True)
            if str(code_id) not in codes:
                raise _bad(
                    "unknown_result_code",
                    f"{rec.where}.result_code_id",
                    "Not one of this campaign's result codes.",
                )
            person_ref = _v_person_ref(rec, "person_id")
            if person_ref is not None and person_ref not in pks:
                raise _bad(
                    "unknown_person", f"{rec.where}.person_id", f"Unknown person {person_ref}."
                )
            lon, lat = _v_number(rec, "gps_lon"), _v_number(rec, "gps_lat")
            gps = None
            if lon is not None and lat is not None:
                gps = _strip_none(
                    {"lon": lon, "lat": lat, "accuracy_m": _v_number(rec, "gps_accuracy_m")}
                )
            supporter = _v_number(rec, "supporter_id")
            items.append(
                _strip_none(
                    {
                        "kind": SyncItemKind.CONTACT,
                        "id": rec.id,
                        "device_time": _v_time(rec, "device_time", required=True),
                        "household": _v_int_id(rec, "household_id", required=True),
                        "person": pks[person_ref] if person_ref is not None else None,
                        "turf": _v_int_id(rec, "turf_id"),
                        "result_code": codes[str(code_id)],
                        "answers": _v_json(rec, "answers", dict),
                        "supporter_id": supporter if supporter else None,
                        "notes": _v_str(rec, "notes") or None,
                        "gps": gps,
                    }
                )
            )
        receipts = self.merge.contacts_merge(ctx=self.ctx, items=items)
        mine = set()
        conflicted = [uuid.UUID(r.id) for r in receipts if r.reason == "id_conflict"]
        if conflicted:
            mine = {
                str(pk)
                for pk in ContactAttempt.objects.filter(
                    pk__in=conflicted,
                    campaign_id=self.ctx.campaign_id,
                    canvasser_id=self.ctx.user.pk,
                ).values_list("pk", flat=True)
            }
        for rec, receipt in zip(recs, receipts, strict=True):
            if receipt.status == "created":
                self.counts["contacts"] += 1
            elif receipt.status == "duplicate" or (
                receipt.reason == "id_conflict" and rec.id in mine
            ):
                # Append-only: the version the server first accepted stays.
                self.counts["unchanged"] += 1
            else:
                raise _rejected(rec, receipt)

    # -- sign-ups --------------------------------------------------------------------------

    def signups(self, recs: list[_Record]) -> None:
        for rec in recs:
            person_ref = _v_person_ref(rec, "person_id")
            pks = self.person_pks([person_ref]) if person_ref else {}
            if person_ref is not None and person_ref not in pks:
                raise _bad(
                    "unknown_person", f"{rec.where}.person_id", f"Unknown person {person_ref}."
                )
            fields = {
                "household": _v_int_id(rec, "household_id"),
                "person": pks.get(person_ref) if person_ref else None,
                "first_name": _v_str(rec, "first_name", 100),
                "last_name": _v_str(rec, "last_name", 100),
                "email": _v_str(rec, "email", 254),
                "phone": _v_str(rec, "phone", 32),
                "availability": _v_json(rec, "availability", dict),
                "interests": _v_json(rec, "interests", list),
                "workplace": _v_str(rec, "workplace", 200),
                "employer": _v_str(rec, "employer", 200),
                "union": _v_str(rec, "union", 200),
                "industry": _v_str(rec, "industry", 120),
                "notes": _v_str(rec, "notes"),
            }
            kind = _v_str(rec, "kind", 16)
            device_time = _v_time(rec, "device_time", required=False) or timezone.now().isoformat()
            existing = self._signup_existing(rec)
            if existing is None:
                if rec.op == "updated":
                    raise _bad("unknown_signup", f"{rec.where}.id", f"Unknown sign-up {rec.id}.")
                item = _strip_none(
                    {
                        "kind": SyncItemKind.SIGNUP,
                        "id": rec.id,
                        "device_time": device_time,
                        "signup_kind": kind,
                        **fields,
                    }
                )
                receipt = self.merge.signup_merge(ctx=self.ctx, item=item)
                if not receipt.ok:
                    raise _rejected(rec, receipt)
                self.counts["volunteer_signups"] += 1
                continue
            self._signup_update(rec, existing, kind=kind, fields=fields, device_time=device_time)

    def _signup_existing(self, rec: _Record) -> VolunteerSignup | None:
        pk = uuid.UUID(rec.id) if _UUID_RE.fullmatch(rec.id) else None
        if pk is None:
            return None
        found = (
            VolunteerSignup.objects.select_for_update()
            .filter(campaign_id=self.ctx.campaign_id, pk=pk)
            .first()
        )
        if found is None:
            target = (
                SyncLedgerEntry.objects.filter(
                    client_id=pk, kind=SyncItemKind.SIGNUP, campaign_id=self.ctx.campaign_id
                )
                .values_list("object_id", flat=True)
                .first()
            )
            if target:
                found = (
                    VolunteerSignup.objects.select_for_update()
                    .filter(campaign_id=self.ctx.campaign_id, pk=uuid.UUID(target))
                    .first()
                )
        return found

    def _signup_update(
        self,
        rec: _Record,
        signup: VolunteerSignup,
        *,
        kind: str | None,
        fields: dict[str, Any],
        device_time: str,
    ) -> None:
        """A device edits a sign-up it can see: writable columns only, full_clean()."""
        from canvass.sync.merge import phone_key

        changes: dict[str, Any] = {}
        if kind is not None and kind != signup.kind:
            changes["kind"] = kind
        for name in (
            "first_name",
            "last_name",
            "email",
            "phone",
            "workplace",
            "employer",
            "union",
            "industry",
            "notes",
        ):
            value = fields.get(name)
            if value is not None and value.strip() != getattr(signup, name):
                changes[name] = value.strip()
        for name in ("availability", "interests"):
            value = fields.get(name)
            if value is not None and value != getattr(signup, name):
                changes[name] = value
        if not changes:
            self.counts["unchanged"] += 1
            return
        if signup.updated_at > self.last:
            raise SyncConflict(
                f"{rec.where}: sign-up {rec.id} changed on the server after your last pull; "
                "pull and push again.",
                fields={rec.where: ["Changed on the server after last_pulled_at."]},
            )
        if signup.household_id is not None:
            try:
                self.merge._authorize_household(self.ctx, signup.household_id, timezone.now())
            except self.merge.ItemRejected as exc:
                raise _bad(exc.reason, rec.where, exc.message) from None
        for name, value in changes.items():
            setattr(signup, name, value)
        if "phone" in changes:
            signup.phone_key = phone_key(signup.phone)
        signup.device_time = datetime.fromisoformat(device_time)
        try:
            signup.full_clean(exclude=["campaign", "person", "household", "canvasser"])
        except ValidationError as exc:
            raise InvalidInput(
                f"{rec.where}: invalid sign-up.",
                code="invalid_value",
                fields={f"{rec.where}.{k}": v for k, v in exc.message_dict.items()},
            ) from None
        signup.save()
        self.counts["volunteer_signups"] += 1


__all__ = [
    "COLUMNS",
    "READ_ONLY_TABLES",
    "SCHEMA_VERSION",
    "TABLES",
    "Migration",
    "SyncConflict",
    "changes_parse",
    "datetime_from_ms",
    "device_id_parse",
    "last_pulled_at_parse",
    "migration_parse",
    "ms_from_datetime",
    "schema_version_parse",
    "sync_membership_resolve",
    "watermelon_pull",
    "watermelon_push",
]
