"""The exactly-once merge of items pushed by devices (DESIGN.md §6). Both ways in (the native
batch API `POST /api/sync/contacts/` and the WatermelonDB push) end here.

Entry points
------------
- `sync_items_merge(*, user, device_id, items, campaign_id=None, received_at=None)`: a whole
  batch; one `Receipt` per item, in order. Runs in one transaction.
- `merge_context_build(...)` + the per-kind functions `contact_attempt_merge`, `signup_merge`,
  `person_create_at_door`, `person_correction_apply` (each `(*, ctx, item) -> Receipt`): for
  callers with their own outer transaction (the WatermelonDB push applies all-or-nothing and
  raises when a receipt is `rejected`). `contacts_merge(*, ctx, items)` is the bulk form.
- `supporter_score_recompute(...)`, `household_result_recompute(...)`: rebuild the derived rows
  from the append-only attempts (repairs, tests' oracle).

Campaign
--------
A batch belongs to one campaign: `campaign_id` when given; otherwise the campaign of the turfs
the items name (exactly one, where the caller is a member); otherwise the caller's only campaign.
Anything else is `InvalidInput(code="campaign_required")`. Items that name a household, person or
turf outside that campaign's scope are rejected as `unknown_*` (never revealing whether it
exists elsewhere).

Item format (JSON objects; unknown fields are rejected as `invalid`)
--------------------------------------------------------------------
Every item: `kind` ("contact" | "signup" | "new_person" | "correction"), `id` (client UUID
string), `device_time` (ISO 8601 with a UTC offset; naive is `naive_timestamp`).

- contact: `household` (int), `result_code` (code string), optional `person` (int, or the client
  UUID of a `new_person` item), `turf` (int), `answers` ({question_key: value | [values]}),
  `supporter_id` (1-5), `notes`, `gps` ({lon, lat, accuracy_m}).
- signup: `signup_kind` (volunteer | member | supporter), optional `person`, `household`,
  `first_name`, `last_name`, `email`, `phone`, `availability` (object), `interests` (list of
  strings), `workplace`, `employer`, `union`, `industry`, `notes`. Needs a person, an email or a
  phone.
- new_person: `household` (int), optional `first_name`, `last_name`, `phone`, `email`,
  `language`, `year_of_birth`.
- correction: `person` (int or new-person UUID), `field` (phone | email | language | name |
  moved | deceased), `value` (string; {first_name, last_name} for name; ignored for
  moved/deceased).

Receipts and reasons
--------------------
`{"id", "status": created|duplicate|rejected, "reason", "message", "object_id", "flags"}`.
Reasons (stable): `invalid` (with `fields`), `id_conflict`, `unknown_household`,
`unknown_person`, `unknown_turf`, `unknown_result_code`, `unknown_question`, `invalid_answer`,
`supporter_id_out_of_range`, `naive_timestamp`, `not_assigned`. Flags: `clock_clamped` (device
time more than SYNC_FUTURE_CLAMP_SECONDS ahead of the receive time: the effective time is the
receive time), `merged` (a sign-up folded into an existing one), `superseded` (a correction
older than one already applied: kept in the audit trail, not applied).

Rules
-----
Idempotency: every accepted item writes a `SyncLedgerEntry` whose primary key is the client id,
with a SHA-256 of the item's canonical JSON (sorted keys, as sent). The database decides: the
ledger insert is `INSERT ... ON CONFLICT DO NOTHING RETURNING`, so two devices racing on one id
cannot both win; a loser reads the winner's row: same hash (and campaign) -> `duplicate`
(nothing changes), otherwise `id_conflict`.

Scope: directors may push for any household of the organization (and any turf of the
campaign). Everyone else needs an assignment of their own to a turf holding the household that
covered the item's effective time (assignment created_at <= t < ended_at / expires_at), so a
knock recorded before a reassignment still lands. Household not in any turf the caller was ever
given -> `unknown_household`; given, but not at that time -> `not_assigned`. Viewers may not
push (Forbidden).

Answers follow the active script: unknown keys are `unknown_question`; a value the question
does not accept, or an answer to a question its branching hides (`show_if`: asked only when an
earlier question of the same attempt got one of the listed answers; the item's `supporter_id`
counts as the supporter ID question's answer), is `invalid_answer` with the field message.

Contact attempts are append-only. Derived rows are updated with conditional upserts, never
read-modify-write, so concurrent pushes never lose an update and arrival order does not matter:
- `SupporterScore` (campaign, person): the attempt with the greatest (effective_time, attempt
  uuid) among attempts carrying a supporter ID.
- `HouseholdResult` (campaign, household): latest attempt/result code by the same order;
  `attempts` += n; `ever_contacted` = any contact code; `is_final` = any final code (sticky: a
  final door is never revisited in that campaign, whatever arrives later).
Rows are upserted sorted by key so that concurrent batches take row locks in the same order
(no deadlocks).

Sign-ups: deduplicated per campaign by person, email (case-insensitive) or phone digits. A new
sign-up's id is the item's client id (so a device and the server name it alike). A
matching sign-up is updated: interests merged (union, first-seen order), availability merged
(new keys win), non-empty text fields replace, kind becomes the latest. Batches holding sign-ups
first lock the campaign row, which serialises sign-up dedup per campaign (sign-ups are rare).

New people are created once (ledger), with `source="door"`.

Corrections are always stored in `PersonCorrection` (old and new value). They are applied
under a row lock on the person, unless a correction of the same field with a later device time
was already stored (then `superseded`): phone/email/language/name replace the person's value;
moved/deceased set `has_moved`/`is_deceased`, and when nobody at the household is left to visit
(everyone moved or deceased), the door becomes final for every campaign of the organization
(`Household.is_final`, `final_reason` = "moved"/"deceased").

Failure: per-item problems are receipts. Items are validated before anything is written, so a
rejected item writes nothing; non-contact items each run in a savepoint. Any unexpected error
rolls back the whole batch (nothing half-written) and propagates: the API answers a retryable
503, and the retry gets `created`/`duplicate` receipts as usual.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from canvass.access import MAX_ID, AnyUser, membership_require
from canvass.errors import Forbidden, InvalidInput
from canvass.models import (
    Campaign,
    ContactAttempt,
    CorrectionKind,
    HouseholdResult,
    Membership,
    Person,
    PersonCorrection,
    PersonSource,
    QuestionKind,
    ResultCode,
    Role,
    SignupKind,
    SupporterScore,
    SyncItemKind,
    SyncLedgerEntry,
    VolunteerSignup,
)
from canvass.rows import prepared_cursor
from turf.models import Assignment, Household, Turf, TurfDoor, assignment_in_force

PUSH_ROLES = frozenset({Role.DIRECTOR, Role.ORGANIZER, Role.CANVASSER})

CREATED = "created"
DUPLICATE = "duplicate"
REJECTED = "rejected"

# Stable reason codes (clients branch on them).
R_INVALID = "invalid"
R_ID_CONFLICT = "id_conflict"
R_UNKNOWN_HOUSEHOLD = "unknown_household"
R_UNKNOWN_PERSON = "unknown_person"
R_UNKNOWN_TURF = "unknown_turf"
R_UNKNOWN_RESULT_CODE = "unknown_result_code"
R_UNKNOWN_QUESTION = "unknown_question"
R_INVALID_ANSWER = "invalid_answer"
R_SUPPORTER_ID_RANGE = "supporter_id_out_of_range"
R_NAIVE_TIMESTAMP = "naive_timestamp"
R_NOT_ASSIGNED = "not_assigned"

FLAG_CLOCK_CLAMPED = "clock_clamped"
FLAG_MERGED = "merged"
FLAG_SUPERSEDED = "superseded"

MAX_TEXT = 2000
MAX_NOTES = 5000

_COMMON_FIELDS = frozenset({"kind", "id", "device_time"})
_FIELDS: dict[str, frozenset[str]] = {
    SyncItemKind.CONTACT: _COMMON_FIELDS
    | {"household", "person", "turf", "result_code", "answers", "supporter_id", "notes", "gps"},
    SyncItemKind.SIGNUP: _COMMON_FIELDS
    | {
        "signup_kind",
        "person",
        "household",
        "first_name",
        "last_name",
        "email",
        "phone",
        "availability",
        "interests",
        "workplace",
        "employer",
        "union",
        "industry",
        "notes",
    },
    SyncItemKind.NEW_PERSON: _COMMON_FIELDS
    | {"household", "first_name", "last_name", "phone", "email", "language", "year_of_birth"},
    SyncItemKind.CORRECTION: _COMMON_FIELDS | {"person", "field", "value"},
}


@dataclass
class Receipt:
    id: str
    status: str
    reason: str | None = None
    message: str = ""
    object_id: str | None = None
    flags: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != REJECTED

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "object_id": self.object_id,
            "flags": self.flags,
        }
        if self.fields:
            body["fields"] = self.fields
        return body


class ItemRejected(Exception):
    """Raised inside item handling; becomes a `rejected` receipt."""

    def __init__(self, reason: str, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.fields = fields or {}


def _reject(item_id: str, exc: ItemRejected) -> Receipt:
    return Receipt(
        id=item_id, status=REJECTED, reason=exc.reason, message=exc.message, fields=exc.fields
    )


# `json.dumps` with options builds a new encoder per call: one encoder, the same bytes.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def item_content_hash(item: dict[str, Any]) -> str:
    """SHA-256 of the item's canonical JSON (sorted keys, compact, UTF-8): the ledger's notion of
    "same content"."""
    return hashlib.sha256(_CANONICAL_JSON.encode(item).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Context: the caller, the campaign and per-batch caches
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class MergeContext:
    """Who is pushing, into which campaign, at what receive time; caches lookups per batch."""

    user: User
    membership: Membership
    device_id: str
    received_at: datetime
    _result_codes: dict[str, tuple[int, bool, bool]] | None = None
    _questions: dict[str, QuestionSpec] | None = None

    @property
    def campaign(self) -> Campaign:
        return self.membership.campaign

    @property
    def campaign_id(self) -> int:
        return self.membership.campaign_id

    @property
    def organization_id(self) -> int:
        return self.membership.campaign.organization_id

    @property
    def is_director(self) -> bool:
        return self.membership.role == Role.DIRECTOR

    @cached_property
    def clamp_limit(self) -> datetime:
        return self.received_at + timedelta(seconds=settings.SYNC_FUTURE_CLAMP_SECONDS)

    def result_codes(self) -> dict[str, tuple[int, bool, bool]]:
        """code -> (id, is_contact, is_final); inactive codes included (older packets)."""
        if self._result_codes is None:
            table = ResultCode._meta.db_table
            self._result_codes = {
                code: (pk, bool(contact), bool(final))
                for pk, code, contact, final in _select(
                    f"SELECT id, code, is_contact, is_final FROM {table} WHERE campaign_id = %s",
                    [self.campaign_id],
                )
            }
        return self._result_codes

    def questions(self) -> dict[str, QuestionSpec]:
        """The active script's questions by key (one query, on the first item with answers)."""
        if self._questions is None:
            kinds: dict[str, tuple[str, str | None]] = {}
            options: dict[str, set[str]] = {}
            show_if_options: dict[str, set[str]] = {}
            for key, kind, value, parent, shown_for in _active_question_rows(
                campaign_id=self.campaign_id
            ):
                kinds[key] = (kind, parent)
                if value is not None:
                    options.setdefault(key, set()).add(value)
                if shown_for is not None:
                    show_if_options.setdefault(key, set()).add(shown_for)
            self._questions = {
                key: QuestionSpec(
                    kind,
                    frozenset(options.get(key, ())),
                    parent,
                    frozenset(show_if_options.get(key, ())),
                )
                for key, (kind, parent) in kinds.items()
            }
        return self._questions


class QuestionSpec(NamedTuple):
    kind: str
    options: frozenset[str]
    # Branching: asked only when the `show_if` question's answer is one of `show_if_options`.
    show_if: str | None
    show_if_options: frozenset[str]


def _active_question_rows(
    *, campaign_id: int
) -> Iterable[tuple[str, str, str | None, str | None, str | None]]:
    from canvass.models import Question

    return Question.objects.filter(
        script__campaign_id=campaign_id, script__is_active=True
    ).values_list(
        "key", "kind", "options__value", "show_if_question__key", "show_if_options__value"
    )


def merge_context_build(
    *,
    user: User,
    device_id: str,
    campaign_id: int | str,
    received_at: datetime | None = None,
) -> MergeContext:
    """Resolve the caller's membership (NotFound outside the campaign, Forbidden for viewers)."""
    membership = membership_require(user=user, campaign_id=campaign_id, roles=PUSH_ROLES)
    if not isinstance(device_id, str) or not device_id.strip() or len(device_id) > 100:
        raise InvalidInput(
            "device_id must be a non-empty string of at most 100 characters.",
            fields={"device_id": ["A non-empty string of at most 100 characters."]},
        )
    when = received_at or timezone.now()
    if timezone.is_naive(when):
        raise InvalidInput("received_at must be timezone-aware.")
    return MergeContext(user=user, membership=membership, device_id=device_id, received_at=when)


def sync_campaign_resolve(
    *, user: User, items: Sequence[Any], campaign_id: int | str | None = None
) -> int | str:
    """The campaign a batch belongs to (see the module docstring)."""
    if campaign_id is not None:
        return campaign_id
    turf_ids = {
        item["turf"]
        for item in items
        if isinstance(item, dict)
        and isinstance(item.get("turf"), int)
        and not isinstance(item.get("turf"), bool)
    }
    member_of = Membership.objects.filter(user=user)
    if turf_ids:
        campaigns = set(
            Turf.objects.filter(
                pk__in=turf_ids, campaign_id__in=member_of.values("campaign_id")
            ).values_list("campaign_id", flat=True)
        )
        if len(campaigns) == 1:
            return campaigns.pop()
    mine = list(member_of.values_list("campaign_id", flat=True)[:2])
    if len(mine) == 1:
        return mine[0]
    raise InvalidInput(
        "Say which campaign this batch is for: campaign_id is required when it cannot be "
        "derived from the items' turfs or your only membership.",
        code="campaign_required",
        fields={"campaign_id": ["This field is required."]},
    )


# --------------------------------------------------------------------------------------------
# Field parsing (domain-side: no DRF here)
# --------------------------------------------------------------------------------------------


def _invalid(field_name: str, message: str) -> ItemRejected:
    return ItemRejected(R_INVALID, f"{field_name}: {message}", {field_name: [message]})


def _item_id(item: Any) -> str:
    """The item's id as sent, for the receipt (empty when unusable)."""
    item_id = item.get("id") if isinstance(item, dict) else None
    if isinstance(item_id, str):
        return item_id[:64]
    return ""


def _parse_uuid(value: Any, field_name: str) -> uuid.UUID:
    if not isinstance(value, str):
        raise _invalid(field_name, "Must be a UUID string.")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _invalid(field_name, "Not a valid UUID.") from None


def _parse_int(value: Any, field_name: str, *, required: bool = True) -> int | None:
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid(field_name, "Must be an integer id.")
    if value < 1 or value > MAX_ID:
        raise _invalid(field_name, "Out of range.")
    return value


def _parse_str(value: Any, field_name: str, *, max_length: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _invalid(field_name, "Must be a string.")
    if len(value) > max_length:
        raise _invalid(field_name, f"At most {max_length} characters.")
    return value.strip()


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise _invalid("device_time", "Required: an ISO 8601 time with a UTC offset.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid("device_time", "Not an ISO 8601 time.") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ItemRejected(
            R_NAIVE_TIMESTAMP,
            "device_time has no UTC offset: send e.g. 2024-10-05T14:03:00-04:00.",
            {"device_time": ["A UTC offset is required."]},
        )
    return parsed


def _parse_email(value: Any, field_name: str = "email") -> str:
    email = _parse_str(value, field_name, max_length=254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise _invalid(field_name, "Not a valid email address.") from None
    return email


def _parse_phone(value: Any, field_name: str = "phone") -> str:
    phone = _parse_str(value, field_name, max_length=32)
    if phone and len(re.sub(r"\D", "", phone)) < 7:
        raise _invalid(field_name, "Not a phone number (at least 7 digits).")
    return phone


def phone_key(phone: str) -> str:
    """Digits of a phone number, without a leading US country code (dedup key)."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits[-20:]


def _person_ref(value: Any, field_name: str = "person") -> int | uuid.UUID | None:
    """A person is named by server id (int) or by the client UUID of a new_person item."""
    if value is None:
        return None
    if isinstance(value, str):
        return _parse_uuid(value, field_name)
    return _parse_int(value, field_name)


def _check_envelope(item: Any) -> tuple[str, uuid.UUID, datetime]:
    """kind, client id and device time; rejects unknown field names."""
    if not isinstance(item, dict):
        raise ItemRejected(
            R_INVALID, "Each item must be a JSON object.", {"item": ["Not an object."]}
        )
    kind = item.get("kind")
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise _invalid("kind", f"Must be one of {', '.join(sorted(_FIELDS))}.")
    client_id = _parse_uuid(item.get("id"), "id")
    allowed = _FIELDS[kind]
    if not item.keys() <= allowed:
        unknown = sorted(set(item) - allowed)
        raise ItemRejected(
            R_INVALID,
            f"Unknown field(s) for a {kind} item: {', '.join(unknown)}.",
            {name: ["Unknown field."] for name in unknown},
        )
    device_time = _parse_time(item.get("device_time"))
    return kind, client_id, device_time


def _effective(ctx: MergeContext, device_time: datetime) -> tuple[datetime, bool]:
    if device_time > ctx.clamp_limit:
        return ctx.received_at, True
    return device_time, False


# --------------------------------------------------------------------------------------------
# Scope: which households the caller may push for, and when
# --------------------------------------------------------------------------------------------


def _select(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of a raw read. The batch path's reads are raw SQL (like its writes): building and
    compiling the equivalent querysets cost ~4 ms of CPU per batch on the bench machine,
    a fifth of a small push (bench/README.md ## Sync)."""
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def _in_list(values: Iterable[int]) -> tuple[str, list[Any]]:
    """`IN (...)` of ids for a raw read: one array parameter on PostgreSQL, placeholders
    elsewhere."""
    values = list(values)
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [_pg_id_array(values)]
    return "IN (" + ",".join(["%s"] * len(values)) + ")", values


def _pg_id_array(values: Iterable[int]) -> str:
    """Ids as a PostgreSQL array literal, e.g. `{1,2,3}`, sent untyped: the server types it
    from the column it meets (`bigint[]`). psycopg dumps a Python list element by element in
    Python (~0.3 ms of the push's CPU for its two 100-id lists), and as `smallint[]` when the
    ids are small, a type that changes with them. The values are ints (`_parse_int`)."""
    return "{" + ",".join(map(str, values)) + "}"


def _aware(value: Any) -> datetime:
    """A datetime read by raw SQL: aware on PostgreSQL, naive UTC from SQLite's converter."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    when: datetime = value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    return when


class _Scope:
    """Batch-level prefetch of the caller's reach over a set of households (2 queries).

    `person_ids`: people (server ids) the batch names. On PostgreSQL a canvasser's scope
    query also reads them (`self.people`, as `_people_resolve` gives them): one round trip
    less per batch (~0.4 ms of app CPU on the bench). `self.people` stays None when they
    were not read (directors, SQLite, no assignment row: then every item is refused by
    `authorize` before its person is looked at)."""

    def __init__(
        self,
        ctx: MergeContext,
        household_ids: set[int],
        turf_ids: set[int],
        person_ids: set[int] | None = None,
    ):
        self.ctx = ctx
        self.org_households: set[int] = set()
        self.campaign_turfs: set[int] = set()
        # household -> [(turf_id, start, end or None, expires or None)]
        self.windows: dict[int, list[tuple[int, datetime, datetime | None, datetime | None]]] = {}
        self.people: dict[int | uuid.UUID, tuple[int, int | None]] | None = None
        if not household_ids:
            return
        if ctx.is_director:
            self.org_households = set(
                Household.objects.filter(
                    organization_id=ctx.organization_id, pk__in=household_ids
                ).values_list("pk", flat=True)
            )
            if turf_ids:
                self.campaign_turfs = set(
                    Turf.objects.filter(campaign_id=ctx.campaign_id, pk__in=turf_ids).values_list(
                        "pk", flat=True
                    )
                )
            return
        in_sql, in_params = _in_list(household_ids)
        joined = (
            f"FROM {Assignment._meta.db_table} a "
            f"JOIN {TurfDoor._meta.db_table} d ON d.turf_id = a.turf_id "
            f"WHERE a.canvasser_id = %s AND a.campaign_id = %s AND d.household_id {in_sql}"
        )
        params = [ctx.user.pk, ctx.campaign_id, *in_params]
        if connection.vendor == "postgresql":
            # One row per assignment with its households (not one per door: the window's
            # times are read and converted once).
            people_sql = ""
            if person_ids:
                # An uncorrelated subquery: run once, its value repeated on each row.
                people_sql = (
                    ", (SELECT array_agg(ARRAY[p.id, p.household_id]) "
                    f"FROM {Person._meta.db_table} p "
                    "WHERE p.organization_id = %s AND p.id = ANY(%s))"
                )
                params = [ctx.organization_id, _pg_id_array(person_ids), *params]
            rows = _select(
                "SELECT a.turf_id, a.created_at, a.ended_at, a.expires_at, "
                f"array_agg(d.household_id){people_sql} {joined} GROUP BY a.id",
                params,
            )
            grouped = [row[:5] for row in rows]
            if person_ids and rows:
                self.people = {pk: (pk, household_id) for pk, household_id in rows[0][5] or ()}
        else:
            grouped = [
                (turf_id, start, end, expires, [household_id])
                for household_id, turf_id, start, end, expires in _select(
                    "SELECT d.household_id, a.turf_id, a.created_at, a.ended_at, a.expires_at "
                    + joined,
                    params,
                )
            ]
        for turf_id, start, end, expires, households in grouped:
            window = (turf_id, _aware(start), end and _aware(end), expires and _aware(expires))
            for household_id in households:
                self.windows.setdefault(household_id, []).append(window)

    def authorize(self, household_id: int, turf_id: int | None, when: datetime) -> int | None:
        """The turf the knock counts for (or None for a director without turf); raises
        ItemRejected when the caller may not push for this household at `when`."""
        if self.ctx.is_director:
            if household_id not in self.org_households:
                raise ItemRejected(R_UNKNOWN_HOUSEHOLD, f"Unknown household {household_id}.")
            if turf_id is not None and turf_id not in self.campaign_turfs:
                raise ItemRejected(R_UNKNOWN_TURF, f"Unknown turf {turf_id}.")
            return turf_id
        windows = [
            w for w in self.windows.get(household_id, ()) if turf_id is None or w[0] == turf_id
        ]
        if not windows:
            if turf_id is not None and household_id in self.windows:
                raise ItemRejected(
                    R_UNKNOWN_TURF, f"Household {household_id} is not in turf {turf_id}."
                )
            raise ItemRejected(R_UNKNOWN_HOUSEHOLD, f"Unknown household {household_id}.")
        for w_turf, start, end, expires in windows:
            if assignment_in_force(start, end, expires, when):
                return w_turf
        raise ItemRejected(
            R_NOT_ASSIGNED,
            f"You were not assigned to a turf holding household {household_id} at {when.isoformat()}.",
        )


def _people_resolve(
    ctx: MergeContext, refs: Iterable[int | uuid.UUID | None]
) -> dict[int | uuid.UUID, tuple[int, int | None]]:
    """person ref -> (person id, household id), for people of the organization (<= 2 queries)."""
    refs = list(refs)
    ints = {r for r in refs if isinstance(r, int)}
    uuids = {r for r in refs if isinstance(r, uuid.UUID)}
    out: dict[int | uuid.UUID, tuple[int, int | None]] = {}
    by_client: dict[int, uuid.UUID] = {}
    if uuids:
        for client_id, object_id in SyncLedgerEntry.objects.filter(
            client_id__in=uuids, campaign_id=ctx.campaign_id, kind=SyncItemKind.NEW_PERSON
        ).values_list("client_id", "object_id"):
            by_client[int(object_id)] = client_id
    wanted = ints | set(by_client)
    if wanted:
        in_sql, in_params = _in_list(wanted)
        for pk, household_id in _select(
            f"SELECT id, household_id FROM {Person._meta.db_table} "
            f"WHERE organization_id = %s AND id {in_sql}",
            [ctx.organization_id, *in_params],
        ):
            if pk in ints:
                out[pk] = (pk, household_id)
            if pk in by_client:
                out[by_client[pk]] = (pk, household_id)
    return out


# --------------------------------------------------------------------------------------------
# Ledger
# --------------------------------------------------------------------------------------------


# Column kinds of the raw multi-row statements below, and how PostgreSQL casts them.
_PG_CASTS = {
    "uuid": "::uuid",
    "int": "::bigint",
    "text": "",
    "time": "::timestamptz",
    "bool": "::boolean",
    "float": "::double precision",
}


def _rows_sql(
    table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]
) -> tuple[str, list[Any]]:
    """`INSERT INTO table (columns) <rows>` for raw multi-row writes, and its parameters.

    `columns` are (name, kind) with kind in uuid/int/text/time/bool/float/json. On PostgreSQL
    the rows travel as ONE jsonb parameter expanded by the server (`jsonb_array_elements ...
    WITH ORDINALITY`, in the given order): psycopg adapts parameters one by one in Python, and
    a 100-item batch would otherwise pass ~2,000 of them per statement (the bulk of the merge's
    CPU time in the profile). Elsewhere (SQLite) a plain multi-row VALUES with the values
    adapted the way Django's fields would.
    """
    names = ", ".join(name for name, _ in columns)
    if connection.vendor == "postgresql":
        picks = ", ".join(
            f"r.v->{i}" if kind == "json" else f"(r.v->>{i}){_PG_CASTS[kind]}"
            for i, (_, kind) in enumerate(columns)
        )
        sql = (
            f"INSERT INTO {table} ({names}) SELECT {picks} "
            f"FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS r(v, n) ORDER BY r.n"
        )
        return sql, [_json_payload(columns, rows)]
    ops = connection.ops
    params: list[Any] = []
    for row in rows:
        for value, (_, kind) in zip(row, columns, strict=True):
            if value is None:
                params.append(None)
            elif kind == "uuid":
                params.append(value.hex)
            elif kind == "time":
                params.append(ops.adapt_datetimefield_value(value))
            elif kind == "json":
                params.append(json.dumps(value, ensure_ascii=False))
            else:
                params.append(value)
    one = "(" + ",".join(["%s"] * len(columns)) + ")"
    return f"INSERT INTO {table} ({names}) VALUES " + ",".join([one] * len(rows)), params


# How a value of each column kind goes into the jsonb payload: as is (None), or converted;
# "time" (not listed) is `isoformat()`: aware datetimes only (device times carry an offset).
_PG_JSON_CONVERTERS: dict[str, Any] = {
    "json": None,
    "int": None,
    "text": None,
    "bool": None,
    "float": None,
    "uuid": str,
}


def _json_payload(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> str:
    """`rows` (values in `columns` order) as the one jsonb parameter of a PostgreSQL write."""
    # One converter per column, looked up once (not a call per value: 100 rows x ~40 values per
    # batch); a time seen before (received_at on every row) is formatted once.
    isoformats: dict[datetime, str] = {}

    def iso(value: datetime) -> str:
        text = isoformats.get(value)
        if text is None:
            text = isoformats[value] = value.isoformat()
        return text

    converters = [_PG_JSON_CONVERTERS.get(kind, iso) for _, kind in columns]
    payload = [
        [
            value if convert is None or value is None else convert(value)
            for value, convert in zip(row, converters, strict=True)
        ]
        for row in rows
    ]
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


_LEDGER_COLUMNS = (
    ("client_id", "uuid"),
    ("campaign_id", "int"),
    ("kind", "text"),
    ("content_hash", "text"),
    ("object_id", "text"),
    ("canvasser_id", "int"),
    ("device_id", "text"),
    ("received_at", "time"),
)


def _ledger_insert(
    ctx: MergeContext, rows: Sequence[tuple[uuid.UUID, str, str, str]]
) -> set[uuid.UUID]:
    """Insert ledger rows (client_id, kind, hash, object_id); return the ids this call inserted.

    One statement: `INSERT ... ON CONFLICT DO NOTHING RETURNING` lets the database arbitrate
    races: on PostgreSQL a concurrent insert of the same id waits for the other transaction and
    then skips (or inserts, if the other rolled back). Sorted by id so that concurrent batches
    lock in the same order.
    """
    if not rows:
        return set()
    sql, params = _rows_sql(
        SyncLedgerEntry._meta.db_table,
        _LEDGER_COLUMNS,
        [
            (
                client_id,
                ctx.campaign_id,
                kind,
                content_hash,
                object_id,
                ctx.user.pk,
                ctx.device_id,
                ctx.received_at,
            )
            for client_id, kind, content_hash, object_id in sorted(rows, key=lambda r: r[0].hex)
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute(sql + " ON CONFLICT (client_id) DO NOTHING RETURNING client_id", params)
        return {_as_uuid(row[0]) for row in cursor.fetchall()}


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _ledger_verdicts(
    ctx: MergeContext, wanted: dict[uuid.UUID, str]
) -> dict[uuid.UUID, tuple[str, str | None]]:
    """For ids already in the ledger: id -> (status, object_id). `wanted` maps id -> hash."""
    out: dict[uuid.UUID, tuple[str, str | None]] = {}
    if not wanted:
        return out
    for client_id, campaign_id, content_hash, object_id in SyncLedgerEntry.objects.filter(
        client_id__in=list(wanted)
    ).values_list("client_id", "campaign_id", "content_hash", "object_id"):
        client_id = _as_uuid(client_id)
        if campaign_id == ctx.campaign_id and content_hash == wanted[client_id]:
            out[client_id] = (DUPLICATE, object_id)
        else:
            out[client_id] = (R_ID_CONFLICT, None)
    return out


def _verdict_receipt(item_id: str, verdict: tuple[str, str | None]) -> Receipt:
    status, object_id = verdict
    if status == DUPLICATE:
        return Receipt(
            id=item_id,
            status=DUPLICATE,
            message="Already received: nothing changed.",
            object_id=object_id,
        )
    return Receipt(
        id=item_id,
        status=REJECTED,
        reason=R_ID_CONFLICT,
        message="This id was already used for different content.",
    )


# --------------------------------------------------------------------------------------------
# Contacts (bulk path)
# --------------------------------------------------------------------------------------------


@dataclass
class _Contact:
    index: int
    item_id: str
    client_id: uuid.UUID
    content_hash: str
    household_id: int
    person_ref: int | uuid.UUID | None
    turf_id: int | None
    code: str
    answers: dict[str, Any]
    supporter_id: int | None
    notes: str
    device_time: datetime
    effective_time: datetime
    clamped: bool
    gps: tuple[float, float, float | None] | None


def _parse_supporter_id(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise ItemRejected(
            R_SUPPORTER_ID_RANGE,
            "supporter_id must be a whole number from 1 (strong support) to 5 (strong oppose).",
            {"supporter_id": ["A whole number from 1 to 5."]},
        )
    if not 1 <= value <= 5:
        raise ItemRejected(
            R_SUPPORTER_ID_RANGE,
            f"supporter_id {value} is outside 1-5.",
            {"supporter_id": ["A whole number from 1 to 5."]},
        )
    return value


def _parse_gps(value: Any) -> tuple[float, float, float | None] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"lon", "lat", "accuracy_m"}:
        raise _invalid("gps", "An object {lon, lat, accuracy_m}.")

    def num(name: str, lo: float, hi: float, required: bool = True) -> float | None:
        v = value.get(name)
        if v is None and not required:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise _invalid("gps", f"{name} must be a number.")
        if not lo <= v <= hi:
            raise _invalid("gps", f"{name} must be within {lo}..{hi}.")
        return float(v)

    lon = num("lon", -180, 180)
    lat = num("lat", -90, 90)
    accuracy = num("accuracy_m", 0, 1e6, required=False)
    assert lon is not None and lat is not None
    return lon, lat, accuracy


def _parse_answers(ctx: MergeContext, value: Any) -> tuple[dict[str, Any], int | None]:
    """Validate answers against the active script; returns (answers, supporter id answer)."""
    if value is None:
        return {}, None
    if not isinstance(value, dict):
        raise _invalid("answers", "An object {question_key: value}.")
    questions = ctx.questions()
    clean: dict[str, Any] = {}
    supporter: int | None = None
    for key, answer in value.items():
        spec = questions.get(key)
        if spec is None:
            raise ItemRejected(
                R_UNKNOWN_QUESTION,
                f"Question {key[:60]!r} is not in the campaign's active script.",
                {"answers": [f"Unknown question {key[:60]!r}."]},
            )
        kind, options = spec.kind, spec.options

        def bad(message: str, key: str = key) -> ItemRejected:
            return ItemRejected(
                R_INVALID_ANSWER,
                f"Answer to {key!r}: {message}",
                {"answers": [f"{key}: {message}"]},
            )

        if kind == QuestionKind.SUPPORTER_ID:
            supporter = _parse_supporter_id(answer)
            clean[key] = supporter
        elif kind == QuestionKind.SINGLE_CHOICE:
            if not isinstance(answer, str | int) or isinstance(answer, bool):
                raise bad("one option value expected.")
            if str(answer) not in options:
                raise bad(f"{str(answer)[:60]!r} is not an option.")
            clean[key] = str(answer)
        elif kind == QuestionKind.MULTI_CHOICE:
            if not isinstance(answer, list) or not all(
                isinstance(v, str | int) and not isinstance(v, bool) for v in answer
            ):
                raise bad("a list of option values expected.")
            values = [str(v) for v in answer]
            missing = [v for v in values if v not in options]
            if missing:
                raise bad(f"{missing[0][:60]!r} is not an option.")
            clean[key] = sorted(set(values), key=values.index)
        elif kind == QuestionKind.YES_NO:
            if isinstance(answer, str) and answer.lower() in {"yes", "no"}:
                answer = answer.lower() == "yes"
            if not isinstance(answer, bool):
                raise bad("true/false (or yes/no) expected.")
            clean[key] = answer
        else:  # text
            if not isinstance(answer, str):
                raise bad("text expected.")
            if len(answer) > MAX_TEXT:
                raise bad(f"at most {MAX_TEXT} characters.")
            clean[key] = answer
    return clean, supporter


def _answer_values(answer: Any) -> set[str]:
    """An answer as the option values it picked (yes/no as "yes"/"no")."""
    if isinstance(answer, bool):
        return {"yes" if answer else "no"}
    if isinstance(answer, list):
        return {str(v) for v in answer}
    return {str(answer)}


def _check_show_if(ctx: MergeContext, answers: dict[str, Any], supporter_id: int | None) -> None:
    """Branching: an answer to a question the script shows only after a given answer to an
    earlier one (`show_if`) needs that answer in the same attempt (the item's `supporter_id`
    counts as the supporter ID question's answer). Otherwise `invalid_answer`: the canvasser
    was never asked it. A `show_if` without options needs the earlier question answered."""
    questions = ctx.questions()
    for key in answers:
        spec = questions[key]
        if spec.show_if is None:
            continue
        given = answers.get(spec.show_if)
        parent = questions.get(spec.show_if)
        if given is None and parent is not None and parent.kind == QuestionKind.SUPPORTER_ID:
            given = supporter_id
        if given is not None and (
            not spec.show_if_options or _answer_values(given) & spec.show_if_options
        ):
            continue
        wanted = (
            f"answered with one of {', '.join(sorted(spec.show_if_options))}"
            if spec.show_if_options
            else "answered"
        )
        message = f"only asked when {spec.show_if!r} is {wanted}."
        raise ItemRejected(
            R_INVALID_ANSWER, f"Answer to {key!r}: {message}", {"answers": [f"{key}: {message}"]}
        )


def _contact_parse(ctx: MergeContext, index: int, item: dict[str, Any]) -> _Contact:
    _, client_id, device_time = _check_envelope(item)
    household_id = _parse_int(item.get("household"), "household")
    assert household_id is not None
    person_ref = _person_ref(item.get("person"))
    turf_id = _parse_int(item.get("turf"), "turf", required=False)
    code = item.get("result_code")
    if not isinstance(code, str) or not code:
        raise _invalid("result_code", "Required: a result code string, e.g. 'not_home'.")
    if code not in ctx.result_codes():
        raise ItemRejected(
            R_UNKNOWN_RESULT_CODE,
            f"Result code {code[:40]!r} is not one of this campaign's codes.",
            {"result_code": ["Unknown result code."]},
        )
    answers, answered_score = _parse_answers(ctx, item.get("answers"))
    supporter_id = _parse_supporter_id(item.get("supporter_id"))
    if supporter_id is not None and answered_score is not None and supporter_id != answered_score:
        raise _invalid("supporter_id", "Differs from the supporter ID answer.")
    supporter_id = supporter_id if supporter_id is not None else answered_score
    if supporter_id is not None and person_ref is None:
        raise _invalid("person", "Required with a supporter ID: a score belongs to a person.")
    if answers:
        _check_show_if(ctx, answers, supporter_id)
    notes = _parse_str(item.get("notes"), "notes", max_length=MAX_NOTES)
    gps = _parse_gps(item.get("gps"))
    effective, clamped = _effective(ctx, device_time)
    return _Contact(
        index=index,
        item_id=item["id"],
        client_id=client_id,
        content_hash=item_content_hash(item),
        household_id=household_id,
        person_ref=person_ref,
        turf_id=turf_id,
        code=code,
        answers=answers,
        supporter_id=supporter_id,
        notes=notes,
        device_time=device_time,
        effective_time=effective,
        clamped=clamped,
        gps=gps,
    )


def contacts_merge(*, ctx: MergeContext, items: Sequence[Any]) -> list[Receipt]:
    """Merge contact-attempt items in bulk (a handful of queries per batch, not per item).

    Usable inside an outer transaction (opens a savepoint). Returns one receipt per item.
    """
    receipts: list[Receipt | None] = [None] * len(items)
    parsed: list[_Contact] = []
    first_seen: dict[uuid.UUID, _Contact] = {}
    repeats: list[_Contact] = []
    for index, item in enumerate(items):
        try:
            contact = _contact_parse(ctx, index, item)
        except ItemRejected as exc:
            receipts[index] = _reject(_item_id(item), exc)
            continue
        if contact.client_id in first_seen:
            repeats.append(contact)
        else:
            first_seen[contact.client_id] = contact
            parsed.append(contact)

    # Ids already in the ledger are settled without validation (the ledger is append-only):
    # a retry after the assignment ended is still a `duplicate`. No look-up up front, though
    # (one round trip per batch for what is, in the common case, a batch of new ids): a known
    # id that passes the checks loses the ledger INSERT below and gets its verdict there; only
    # the items the checks reject are looked up in the ledger (one query, only then).
    refs = [c.person_ref for c in parsed if c.person_ref is not None]
    person_ids = {r for r in refs if isinstance(r, int)}
    scope = _Scope(
        ctx,
        {c.household_id for c in parsed},
        {c.turf_id for c in parsed if c.turf_id is not None},
        # Only when every ref is a server id (new_person UUIDs go through the ledger).
        person_ids if len(person_ids) == len(set(refs)) else None,
    )
    people = scope.people if scope.people is not None else _people_resolve(ctx, refs)
    codes = ctx.result_codes()
    ready: list[tuple[_Contact, int | None, int | None]] = []
    refused: list[_Contact] = []
    for c in parsed:
        try:
            turf_id = scope.authorize(c.household_id, c.turf_id, c.effective_time)
            person_id = None
            if c.person_ref is not None:
                person = people.get(c.person_ref)
                if person is None or person[1] != c.household_id:
                    raise ItemRejected(
                        R_UNKNOWN_PERSON,
                        f"Unknown person {c.person_ref} at household {c.household_id}.",
                        {"person": ["Unknown person at this household."]},
                    )
                person_id = person[0]
        except ItemRejected as exc:
            receipts[c.index] = _reject(c.item_id, exc)
            refused.append(c)
            continue
        ready.append((c, turf_id, person_id))
    if refused:
        known = _ledger_verdicts(ctx, {c.client_id: c.content_hash for c in refused})
        for c in refused:
            if c.client_id in known:
                receipts[c.index] = _verdict_receipt(c.item_id, known[c.client_id])

    # No savepoint of its own: any error propagates and rolls back the caller's transaction
    # (`sync_batch_merge`'s, or the WatermelonDB push's) as a whole.
    with transaction.atomic(savepoint=False):
        rows = [
            _Attempt(
                c.client_id,
                turf_id,
                c.household_id,
                person_id,
                codes[c.code][0],
                c.supporter_id,
                c.effective_time,
                c,
            )
            for c, turf_id, person_id in ready
        ]
        if connection.vendor == "postgresql":
            inserted = _contacts_write_pg(ctx, rows)
        else:
            inserted = _ledger_insert(
                ctx,
                [
                    (row.id, SyncItemKind.CONTACT, row.item.content_hash, str(row.id))
                    for row in rows
                ],
            )
            rows = [row for row in rows if row.id in inserted]
            if rows:
                _attempts_insert(ctx, rows)
                _scores_upsert(ctx, rows)
                _household_results_upsert(ctx, rows, codes)
        lost = {c.client_id: c.content_hash for c, _, _ in ready if c.client_id not in inserted}
        verdicts = _ledger_verdicts(ctx, lost)
        for c, _, _ in ready:
            if c.client_id not in inserted:
                receipts[c.index] = _verdict_receipt(
                    c.item_id, verdicts.get(c.client_id, (R_ID_CONFLICT, None))
                )
                continue
            receipts[c.index] = Receipt(
                id=c.item_id,
                status=CREATED,
                message="Stored.",
                object_id=str(c.client_id),
                flags=[FLAG_CLOCK_CLAMPED] if c.clamped else [],
            )

    for c in repeats:
        first = first_seen[c.client_id]
        first_receipt = receipts[first.index]
        assert first_receipt is not None
        if c.content_hash != first.content_hash:
            receipts[c.index] = _verdict_receipt(c.item_id, (R_ID_CONFLICT, None))
        elif first_receipt.ok:
            receipts[c.index] = _verdict_receipt(c.item_id, (DUPLICATE, first_receipt.object_id))
        else:
            receipts[c.index] = Receipt(
                id=c.item_id,
                status=REJECTED,
                reason=first_receipt.reason,
                message=first_receipt.message,
                fields=first_receipt.fields,
            )
    return [r for r in receipts if r is not None]


class _Attempt(NamedTuple):
    """A contact attempt about to be stored (what the derived-row upserts need, plus the
    parsed item)."""

    id: uuid.UUID
    turf_id: int | None
    household_id: int
    person_id: int | None
    result_code_id: int
    supporter_id: int | None
    effective_time: datetime
    item: _Contact


# An attempt's own columns (as `_attempt_values` gives them), then the batch's.
_ATTEMPT_OWN_COLUMNS = (
    ("id", "uuid"),
    ("turf_id", "int"),
    ("household_id", "int"),
    ("person_id", "int"),
    ("result_code_id", "int"),
    ("answers", "json"),
    ("supporter_id", "int"),
    ("notes", "text"),
    ("device_time", "time"),
    ("effective_time", "time"),
    ("clock_clamped", "bool"),
    ("gps_lon", "float"),
    ("gps_lat", "float"),
    ("gps_accuracy_m", "float"),
    ("content_hash", "text"),
)
_ATTEMPT_COLUMNS = (
    *_ATTEMPT_OWN_COLUMNS,
    ("campaign_id", "int"),
    ("canvasser_id", "int"),
    ("device_id", "text"),
    ("received_at", "time"),
)


def _attempt_values(row: _Attempt) -> tuple[Any, ...]:
    """The values of `_ATTEMPT_OWN_COLUMNS` for one attempt."""
    gps = row.item.gps or (None, None, None)
    return (
        row.id,
        row.turf_id,
        row.household_id,
        row.person_id,
        row.result_code_id,
        row.item.answers,
        row.supporter_id,
        row.item.notes,
        row.item.device_time,
        row.effective_time,
        row.item.clamped,
        gps[0],
        gps[1],
        gps[2],
        row.item.content_hash,
    )


def _attempts_insert(ctx: MergeContext, rows: Sequence[_Attempt]) -> None:
    """One multi-row INSERT of the attempts. Every value was validated by `_contact_parse`
    (the same checks `full_clean()` would make: lengths, 1-5 range, JSON-ready answers) and
    every foreign key resolved within the campaign's scope; the database still enforces the
    supporter-ID check constraint and the foreign keys."""
    sql, params = _rows_sql(
        ContactAttempt._meta.db_table,
        _ATTEMPT_COLUMNS,
        [
            (*_attempt_values(row), ctx.campaign_id, ctx.user.pk, ctx.device_id, ctx.received_at)
            for row in rows
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# The batch's writes on PostgreSQL, as ONE statement (data-modifying CTEs): the ledger insert
# arbitrates the ids, and only the attempts it let through are stored and folded into the
# derived rows, which are aggregated by the database (the same order and rules as
# `_scores_upsert` / `_household_results_upsert`, the SQLite path). One round trip and one
# parse instead of four, and one jsonb payload instead of four (bench/README.md ## Sync).


@cache
def _contacts_write_sql() -> str:
    ledger = SyncLedgerEntry._meta.db_table
    attempts = ContactAttempt._meta.db_table
    scores = SupporterScore._meta.db_table
    results = HouseholdResult._meta.db_table
    codes = ResultCode._meta.db_table
    picks = ", ".join(
        f"r.v->{i} AS {name}" if kind == "json" else f"(r.v->>{i}){_PG_CASTS[kind]} AS {name}"
        for i, (name, kind) in enumerate(_ATTEMPT_OWN_COLUMNS)
    )
    attempt_columns = (
        "id, campaign_id, turf_id, household_id, person_id, canvasser_id, device_id, "
        "result_code_id, answers, supporter_id, notes, device_time, effective_time, "
        "clock_clamped, gps_lon, gps_lat, gps_accuracy_m, received_at, content_hash"
    )
    score_newer = (
        f"({scores}.effective_time, {scores}.attempt_id) "
        f"< (excluded.effective_time, excluded.attempt_id)"
    )
    result_newer = (
        f"({results}.effective_time, {results}.attempt_id) "
        f"< (excluded.effective_time, excluded.attempt_id)"
    )
    return (
        f"WITH input AS (SELECT r.n, {picks} "
        f"FROM jsonb_array_elements(%(rows)s::jsonb) WITH ORDINALITY AS r(v, n)), "
        # Sorted by id: concurrent batches take the ledger's index locks in the same order.
        f"led AS (INSERT INTO {ledger} (client_id, campaign_id, kind, content_hash, object_id, "
        f"canvasser_id, device_id, received_at) "
        f"SELECT i.id, %(campaign)s, %(kind)s, i.content_hash, i.id::text, %(user)s, "
        f"%(device)s, %(received)s FROM input i ORDER BY i.id "
        f"ON CONFLICT (client_id) DO NOTHING RETURNING client_id), "
        f"att AS (INSERT INTO {attempts} ({attempt_columns}) "
        f"SELECT i.id, %(campaign)s, i.turf_id, i.household_id, i.person_id, %(user)s, "
        f"%(device)s, i.result_code_id, i.answers, i.supporter_id, i.notes, i.device_time, "
        f"i.effective_time, i.clock_clamped, i.gps_lon, i.gps_lat, i.gps_accuracy_m, "
        f"%(received)s, i.content_hash FROM input i JOIN led ON led.client_id = i.id "
        f"ORDER BY i.n "
        f"RETURNING id, household_id, person_id, result_code_id, supporter_id, effective_time), "
        # Per person, the latest attempt with a supporter ID; rows upserted in person order.
        f"ss AS (INSERT INTO {scores} (campaign_id, person_id, score, attempt_id, "
        f"effective_time, updated_at) "
        f"SELECT %(campaign)s, person_id, supporter_id, id, effective_time, %(now)s FROM ("
        f"SELECT DISTINCT ON (person_id) person_id, supporter_id, id, effective_time FROM att "
        f"WHERE supporter_id IS NOT NULL AND person_id IS NOT NULL "
        f"ORDER BY person_id, effective_time DESC, id DESC) latest ORDER BY person_id "
        f"ON CONFLICT (campaign_id, person_id) DO UPDATE SET "
        f"score = excluded.score, attempt_id = excluded.attempt_id, "
        f"effective_time = excluded.effective_time, updated_at = excluded.updated_at "
        f"WHERE {score_newer}), "
        # Per household: the latest attempt, the count, any contact, any final code.
        f"hr AS (INSERT INTO {results} (campaign_id, household_id, attempt_id, result_code_id, "
        f"effective_time, attempts, ever_contacted, is_final, updated_at) "
        f"SELECT %(campaign)s, latest.household_id, latest.id, latest.result_code_id, "
        f"latest.effective_time, agg.n, agg.contacted, agg.final, %(now)s FROM ("
        f"SELECT DISTINCT ON (household_id) household_id, id, result_code_id, effective_time "
        f"FROM att ORDER BY household_id, effective_time DESC, id DESC) latest "
        f"JOIN (SELECT a.household_id, count(*) AS n, bool_or(c.is_contact) AS contacted, "
        f"bool_or(c.is_final) AS final FROM att a JOIN {codes} c ON c.id = a.result_code_id "
        f"GROUP BY a.household_id) agg ON agg.household_id = latest.household_id "
        f"ORDER BY latest.household_id "
        f"ON CONFLICT (campaign_id, household_id) DO UPDATE SET "
        f"attempts = {results}.attempts + excluded.attempts, "
        f"ever_contacted = ({results}.ever_contacted OR excluded.ever_contacted), "
        f"is_final = ({results}.is_final OR excluded.is_final), "
        f"updated_at = excluded.updated_at, "
        f"attempt_id = CASE WHEN {result_newer} THEN excluded.attempt_id "
        f"ELSE {results}.attempt_id END, "
        f"result_code_id = CASE WHEN {result_newer} THEN excluded.result_code_id "
        f"ELSE {results}.result_code_id END, "
        f"effective_time = CASE WHEN {result_newer} THEN excluded.effective_time "
        f"ELSE {results}.effective_time END) "
        f"SELECT client_id FROM led"
    )


def _contacts_write_pg(ctx: MergeContext, rows: Sequence[_Attempt]) -> set[uuid.UUID]:
    """Store the attempts of `rows` whose ids the ledger takes, with their derived rows, in one
    statement; return the ids inserted (the others were already in the ledger)."""
    if not rows:
        return set()
    payload = _json_payload(_ATTEMPT_OWN_COLUMNS, [_attempt_values(row) for row in rows])
    params: dict[str, Any] = {
        "rows": payload,
        "campaign": ctx.campaign_id,
        "kind": SyncItemKind.CONTACT.value,
        "user": ctx.user.pk,
        "device": ctx.device_id,
        "received": ctx.received_at,
        "now": timezone.now(),
    }
    with prepared_cursor() as cursor:
        cursor.execute(_contacts_write_sql(), params)
        return {_as_uuid(row[0]) for row in cursor.fetchall()}


def _order_key(effective_time: datetime, attempt_id: uuid.UUID) -> tuple[datetime, str]:
    """The one total order of attempts: effective time, then attempt UUID (as 32 hex digits,
    which is how both PostgreSQL's uuid type and Django's SQLite char(32) column compare)."""
    return effective_time, attempt_id.hex


def _scores_upsert(ctx: MergeContext, rows: Sequence[_Attempt]) -> None:
    latest: dict[int, _Attempt] = {}
    for row in rows:
        if row.supporter_id is None or row.person_id is None:
            continue
        best = latest.get(row.person_id)
        if best is None or _order_key(row.effective_time, row.id) > _order_key(
            best.effective_time, best.id
        ):
            latest[row.person_id] = row
    if not latest:
        return
    table = SupporterScore._meta.db_table
    now = timezone.now()
    sql, params = _rows_sql(
        table,
        (
            ("campaign_id", "int"),
            ("person_id", "int"),
            ("score", "int"),
            ("attempt_id", "uuid"),
            ("effective_time", "time"),
            ("updated_at", "time"),
        ),
        [
            (
                ctx.campaign_id,
                person_id,
                latest[person_id].supporter_id,
                latest[person_id].id,
                latest[person_id].effective_time,
                now,
            )
            for person_id in sorted(latest)
        ],
    )
    # The WHERE makes the upsert a compare-and-swap: only a later attempt replaces the score.
    sql += (
        f" ON CONFLICT (campaign_id, person_id) DO UPDATE SET "
        f"score = excluded.score, attempt_id = excluded.attempt_id, "
        f"effective_time = excluded.effective_time, updated_at = excluded.updated_at "
        f"WHERE ({table}.effective_time, {table}.attempt_id) "
        f"< (excluded.effective_time, excluded.attempt_id)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _household_results_upsert(
    ctx: MergeContext, rows: Sequence[_Attempt], codes: dict[str, tuple[int, bool, bool]]
) -> None:
    code_flags = {pk: (contact, final) for pk, contact, final in codes.values()}
    agg: dict[int, list[Any]] = {}  # household -> [latest row, count, ever_contacted, is_final]
    for row in rows:
        contact, final = code_flags[row.result_code_id]
        entry = agg.get(row.household_id)
        if entry is None:
            agg[row.household_id] = [row, 1, contact, final]
            continue
        if _order_key(row.effective_time, row.id) > _order_key(
            entry[0].effective_time, entry[0].id
        ):
            entry[0] = row
        entry[1] += 1
        entry[2] = entry[2] or contact
        entry[3] = entry[3] or final
    table = HouseholdResult._meta.db_table
    now = timezone.now()
    sql, params = _rows_sql(
        table,
        (
            ("campaign_id", "int"),
            ("household_id", "int"),
            ("attempt_id", "uuid"),
            ("result_code_id", "int"),
            ("effective_time", "time"),
            ("attempts", "int"),
            ("ever_contacted", "bool"),
            ("is_final", "bool"),
            ("updated_at", "time"),
        ),
        [
            (
                ctx.campaign_id,
                household_id,
                latest.id,
                latest.result_code_id,
                latest.effective_time,
                count,
                contacted,
                final,
                now,
            )
            for household_id, (latest, count, contacted, final) in sorted(agg.items())
        ],
    )
    newer = (
        f"({table}.effective_time, {table}.attempt_id) "
        f"< (excluded.effective_time, excluded.attempt_id)"
    )
    # SET expressions all see the old row, so the CASEs compare against the stored latest.
    sql += (
        f" ON CONFLICT (campaign_id, household_id) DO UPDATE SET "
        f"attempts = {table}.attempts + excluded.attempts, "
        f"ever_contacted = ({table}.ever_contacted OR excluded.ever_contacted), "
        f"is_final = ({table}.is_final OR excluded.is_final), "
        f"updated_at = excluded.updated_at, "
        f"attempt_id = CASE WHEN {newer} THEN excluded.attempt_id ELSE {table}.attempt_id END, "
        f"result_code_id = CASE WHEN {newer} THEN excluded.result_code_id "
        f"ELSE {table}.result_code_id END, "
        f"effective_time = CASE WHEN {newer} THEN excluded.effective_time "
        f"ELSE {table}.effective_time END"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --------------------------------------------------------------------------------------------
# Per-item kinds (sign-ups, new people, corrections): rarer, one savepoint each
# --------------------------------------------------------------------------------------------


def _single(ctx: MergeContext, item: Any, expected_kind: str, handler: Any) -> Receipt:
    """Envelope, ledger pre-check, then `handler(ctx, item, client_id, device_time)` ->
    (object_id, flags) inside a savepoint that also holds the ledger insert."""
    item_id = _item_id(item)
    try:
        kind, client_id, device_time = _check_envelope(item)
        if kind != expected_kind:
            raise _invalid("kind", f"Expected {expected_kind!r}.")
        content_hash = item_content_hash(item)
        known = _ledger_verdicts(ctx, {client_id: content_hash})
        if client_id in known:
            return _verdict_receipt(item_id, known[client_id])
        with transaction.atomic():
            object_id, flags = handler(ctx, item, client_id, device_time)
            inserted = _ledger_insert(ctx, [(client_id, kind, content_hash, object_id)])
            if client_id not in inserted:
                # Lost a race with a concurrent push of the same id: undo our work.
                raise _LostRace
    except ItemRejected as exc:
        return _reject(item_id, exc)
    except (_LostRace, IntegrityError):
        # A concurrent push of the same id won (the ledger, or PersonCorrection's client-id
        # primary key, said so): report what the winner stored.
        verdict = _ledger_verdicts(ctx, {client_id: content_hash})
        return _verdict_receipt(item_id, verdict.get(client_id, (R_ID_CONFLICT, None)))
    return Receipt(id=item_id, status=CREATED, message="Stored.", object_id=object_id, flags=flags)


class _LostRace(Exception):
    pass


def _authorize_household(
    ctx: MergeContext, household_id: int, when: datetime, turf_id: int | None = None
) -> None:
    _Scope(ctx, {household_id}, {turf_id} if turf_id else set()).authorize(
        household_id, turf_id, when
    )


def _person_in_scope(
    ctx: MergeContext, ref: int | uuid.UUID, when: datetime, *, lock: bool = False
) -> Person:
    resolved = _people_resolve(ctx, [ref]).get(ref)
    if resolved is None:
        raise ItemRejected(
            R_UNKNOWN_PERSON, f"Unknown person {ref}.", {"person": ["Unknown person."]}
        )
    person_id, household_id = resolved
    if household_id is None:
        if not ctx.is_director:
            raise ItemRejected(
                R_UNKNOWN_PERSON, f"Unknown person {ref}.", {"person": ["Unknown person."]}
            )
    else:
        try:
            _authorize_household(ctx, household_id, when)
        except ItemRejected as exc:
            if exc.reason == R_UNKNOWN_HOUSEHOLD:
                raise ItemRejected(
                    R_UNKNOWN_PERSON, f"Unknown person {ref}.", {"person": ["Unknown person."]}
                ) from None
            raise
    qs = Person.objects.filter(pk=person_id)
    if lock:
        qs = qs.select_for_update()
    return qs.get()


def _new_person(
    ctx: MergeContext, item: dict[str, Any], client_id: uuid.UUID, device_time: datetime
) -> tuple[str, list[str]]:
    household_id = _parse_int(item.get("household"), "household")
    assert household_id is not None
    year = item.get("year_of_birth")
    if year is not None and (
        isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100
    ):
        raise _invalid("year_of_birth", "A year between 1900 and 2100.")
    person = Person(
        organization_id=ctx.organization_id,
        household_id=household_id,
        first_name=_parse_str(item.get("first_name"), "first_name", max_length=100),
        last_name=_parse_str(item.get("last_name"), "last_name", max_length=100),
        phone=_parse_phone(item.get("phone")),
        email=_parse_email(item.get("email")),
        language=_parse_str(item.get("language"), "language", max_length=32),
        year_of_birth=year,
        source=PersonSource.DOOR,
    )
    if not (person.first_name or person.last_name):
        raise _invalid("first_name", "A new person needs a first or last name.")
    effective, clamped = _effective(ctx, device_time)
    _authorize_household(ctx, household_id, effective)
    person.full_clean(exclude=["organization", "household"])
    person.save()
    return str(person.pk), [FLAG_CLOCK_CLAMPED] if clamped else []


def person_create_at_door(*, ctx: MergeContext, item: Any) -> Receipt:
    """A person added at the door, created once per client id (ledger)."""
    return _single(ctx, item, SyncItemKind.NEW_PERSON, _new_person)


def _merge_interests(old: list[Any], new: list[Any]) -> list[Any]:
    out = list(old)
    for value in new:
        if value not in out:
            out.append(value)
    return out


def _signup(
    ctx: MergeContext, item: dict[str, Any], client_id: uuid.UUID, device_time: datetime
) -> tuple[str, list[str]]:
    signup_kind = item.get("signup_kind")
    if signup_kind not in SignupKind.values:
        raise _invalid("signup_kind", f"One of {', '.join(SignupKind.values)}.")
    effective, clamped = _effective(ctx, device_time)
    flags = [FLAG_CLOCK_CLAMPED] if clamped else []
    person_ref = _person_ref(item.get("person"))
    household_id = _parse_int(item.get("household"), "household", required=False)
    person = _person_in_scope(ctx, person_ref, effective) if person_ref is not None else None
    if person is not None and household_id is None:
        household_id = person.household_id
    if household_id is not None and (person is None or person.household_id != household_id):
        _authorize_household(ctx, household_id, effective)
    interests = item.get("interests") or []
    if not isinstance(interests, list) or not all(
        isinstance(v, str) and len(v) <= 100 for v in interests
    ):
        raise _invalid("interests", "A list of strings (at most 100 characters each).")
    availability = item.get("availability") or {}
    if not isinstance(availability, dict):
        raise _invalid("availability", "An object.")
    email = _parse_email(item.get("email"))
    phone = _parse_phone(item.get("phone"))
    texts = {
        name: _parse_str(item.get(name), name, max_length=limit)
        for name, limit in (
            ("first_name", 100),
            ("last_name", 100),
            ("workplace", 200),
            ("employer", 200),
            ("union", 200),
            ("industry", 120),
            ("notes", MAX_NOTES),
        )
    }
    if person is None and not email and not phone:
        raise _invalid("email", "A sign-up needs a person, an email or a phone.")
    key = phone_key(phone)
    match = Q(pk__in=[])
    if person is not None:
        match |= Q(person_id=person.pk)
    if email:
        match |= Q(email__iexact=email)
    if key:
        match |= Q(phone_key=key)
    existing = (
        VolunteerSignup.objects.select_for_update()
        .filter(match, campaign_id=ctx.campaign_id)
        .order_by("created_at", "id")
        .first()
    )
    if existing is None:
        # The device's id becomes the sign-up's id, so both sides name the row alike (the
        # WatermelonDB pull sends it back under the id the device created it with).
        signup = VolunteerSignup(
            id=client_id,
            campaign_id=ctx.campaign_id,
            person=person,
            household_id=household_id,
            kind=signup_kind,
            interests=_merge_interests([], interests),
            email=email,
            phone=phone,
            phone_key=key,
            availability=availability,
            canvasser_id=ctx.user.pk,
            device_time=device_time,
            **texts,
        )
    else:
        signup = existing
        flags.append(FLAG_MERGED)
        signup.kind = signup_kind
        signup.interests = _merge_interests(signup.interests or [], interests)
        signup.availability = {**(signup.availability or {}), **availability}
        if person is not None and signup.person_id is None:
            signup.person = person
        if household_id is not None and signup.household_id is None:
            signup.household_id = household_id
        if email:
            signup.email = email
        if phone:
            signup.phone, signup.phone_key = phone, key
        for name, value in texts.items():
            if value:
                setattr(signup, name, value)
        signup.device_time = device_time
    # Uniqueness of the id is the database's job: a new row is a forced INSERT (a plain save()
    # with a pk set would UPDATE a foreign row that happened to have this id), and a clash is an
    # IntegrityError that `_single` reports as `id_conflict`.
    signup.full_clean(
        exclude=["campaign", "person", "household", "canvasser"], validate_unique=False
    )
    signup.save(force_insert=existing is None)
    return str(signup.pk), flags


def signup_merge(*, ctx: MergeContext, item: Any) -> Receipt:
    """A volunteer/member/supporter sign-up, deduplicated per campaign (see module docstring).

    Callers merging several sign-ups concurrently should hold the campaign row lock
    (`sync_items_merge` does)."""
    return _single(ctx, item, SyncItemKind.SIGNUP, _signup)


def _correction(
    ctx: MergeContext, item: dict[str, Any], client_id: uuid.UUID, device_time: datetime
) -> tuple[str, list[str]]:
    kind = item.get("field")
    if kind not in CorrectionKind.values:
        raise _invalid("field", f"One of {', '.join(CorrectionKind.values)}.")
    ref = _person_ref(item.get("person"))
    if ref is None:
        raise _invalid("person", "Required.")
    effective, clamped = _effective(ctx, device_time)
    flags = [FLAG_CLOCK_CLAMPED] if clamped else []
    value = item.get("value")
    new_value: Any
    if kind == CorrectionKind.PHONE:
        new_value = _parse_phone(value, "value")
    elif kind == CorrectionKind.EMAIL:
        new_value = _parse_email(value, "value")
    elif kind == CorrectionKind.LANGUAGE:
        new_value = _parse_str(value, "value", max_length=32)
    elif kind == CorrectionKind.NAME:
        if not isinstance(value, dict) or set(value) - {"first_name", "last_name"} or not value:
            raise _invalid("value", "An object {first_name, last_name}.")
        new_value = {k: _parse_str(v, "value", max_length=100) for k, v in value.items()}
    else:  # moved / deceased: the fact is the value
        new_value = True
    # Lock the person: corrections of one person apply one at a time.
    person = _person_in_scope(ctx, ref, effective, lock=True)
    superseded = PersonCorrection.objects.filter(
        person=person, kind=kind, device_time__gt=device_time
    ).exists()
    old_value: Any
    if kind == CorrectionKind.NAME:
        old_value = {"first_name": person.first_name, "last_name": person.last_name}
    elif kind == CorrectionKind.MOVED:
        old_value = person.has_moved
    elif kind == CorrectionKind.DECEASED:
        old_value = person.is_deceased
    else:
        old_value = getattr(person, kind)
    PersonCorrection.objects.create(
        id=client_id,
        campaign_id=ctx.campaign_id,
        person=person,
        kind=kind,
        old_value=old_value,
        new_value=new_value,
        canvasser_id=ctx.user.pk,
        device_id=ctx.device_id,
        device_time=device_time,
        received_at=ctx.received_at,
    )
    if superseded:
        return str(client_id), [*flags, FLAG_SUPERSEDED]
    if kind == CorrectionKind.NAME:
        for k, v in new_value.items():
            setattr(person, k, v)
    elif kind == CorrectionKind.MOVED:
        person.has_moved = True
    elif kind == CorrectionKind.DECEASED:
        person.is_deceased = True
    else:
        setattr(person, kind, new_value)
    person.full_clean(exclude=["organization", "household"])
    person.save()
    if kind in (CorrectionKind.MOVED, CorrectionKind.DECEASED) and person.household_id:
        household_door_finalize_if_empty(household_id=person.household_id, reason=kind)
    return str(client_id), flags


def household_door_finalize_if_empty(*, household_id: int, reason: str) -> bool:
    """Mark the door final (for every campaign) when nobody there is left to visit."""
    household = Household.objects.select_for_update().get(pk=household_id)
    if household.is_final:
        return False
    remaining = Person.objects.filter(
        household_id=household_id, is_deceased=False, has_moved=False
    ).exists()
    if remaining:
        return False
    household.is_final = True
    household.final_reason = reason
    household.save(update_fields=["is_final", "final_reason", "updated_at"])
    return True


def person_correction_apply(*, ctx: MergeContext, item: Any) -> Receipt:
    """A correction from the door, kept in the audit trail and applied by the module's rules."""
    return _single(ctx, item, SyncItemKind.CORRECTION, _correction)


def contact_attempt_merge(*, ctx: MergeContext, item: Any) -> Receipt:
    """One contact attempt (see `contacts_merge` for batches)."""
    return contacts_merge(ctx=ctx, items=[item])[0]


_SINGLE_HANDLERS = {
    SyncItemKind.NEW_PERSON: person_create_at_door,
    SyncItemKind.CORRECTION: person_correction_apply,
    SyncItemKind.SIGNUP: signup_merge,
}
# New people first, so contacts/corrections/sign-ups in the same batch may name them.
_SINGLE_ORDER = (SyncItemKind.NEW_PERSON, SyncItemKind.CORRECTION, SyncItemKind.SIGNUP)


# --------------------------------------------------------------------------------------------
# The batch
# --------------------------------------------------------------------------------------------


@dataclass
class BatchResult:
    campaign_id: int
    receipts: list[Receipt]


def sync_items_merge(
    *,
    user: AnyUser,
    device_id: str,
    items: Sequence[Any],
    campaign_id: int | str | None = None,
    received_at: datetime | None = None,
) -> list[Receipt]:
    """Merge a pushed batch; one receipt per item, in the items' order.

    Raises NotFound (campaign outside the caller's reach), Forbidden (viewer), InvalidInput
    (`campaign_required`, bad device_id, too many items: `too_many_items`, status 413).
    """
    return sync_batch_merge(
        user=user,
        device_id=device_id,
        items=items,
        campaign_id=campaign_id,
        received_at=received_at,
    ).receipts


def sync_batch_merge(
    *,
    user: AnyUser,
    device_id: str,
    items: Sequence[Any],
    campaign_id: int | str | None = None,
    received_at: datetime | None = None,
) -> BatchResult:
    """`sync_items_merge`, also telling which campaign the batch went to."""
    if len(items) > settings.SYNC_MAX_ITEMS:
        raise batch_too_large(len(items))
    if not user.is_authenticated:
        raise Forbidden("Authentication required.")
    resolved = sync_campaign_resolve(user=user, items=items, campaign_id=campaign_id)
    ctx = merge_context_build(
        user=user, device_id=device_id, campaign_id=resolved, received_at=received_at
    )
    receipts: list[Receipt | None] = [None] * len(items)
    by_kind: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        kind = item.get("kind") if isinstance(item, dict) else None
        if not isinstance(kind, str) or kind not in _SINGLE_HANDLERS:
            kind = SyncItemKind.CONTACT  # contacts_merge answers a bad kind per item
        by_kind.setdefault(kind, []).append(index)
    with transaction.atomic():
        if by_kind.get(SyncItemKind.SIGNUP):
            # Serialise sign-up dedup per campaign; taken before any other row lock.
            list(Campaign.objects.select_for_update().filter(pk=ctx.campaign_id).values("pk"))
        for kind in _SINGLE_ORDER:
            for index in by_kind.get(kind, ()):
                receipts[index] = _SINGLE_HANDLERS[kind](ctx=ctx, item=items[index])
        contact_indexes = by_kind.get(SyncItemKind.CONTACT, [])
        if contact_indexes:
            for index, receipt in zip(
                contact_indexes,
                contacts_merge(ctx=ctx, items=[items[i] for i in contact_indexes]),
                strict=True,
            ):
                receipts[index] = receipt
    return BatchResult(campaign_id=ctx.campaign_id, receipts=[r for r in receipts if r is not None])


def batch_too_large(count: int) -> InvalidInput:
    error = InvalidInput(
        f"A batch holds at most {settings.SYNC_MAX_ITEMS} items; this one has {count}. "
        "Split it and push the parts one after the other.",
        code="too_many_items",
        fields={"items": [f"At most {settings.SYNC_MAX_ITEMS} items."]},
    )
    error.status = 413
    return error


# --------------------------------------------------------------------------------------------
# Recompute from the append-only attempts
# --------------------------------------------------------------------------------------------


@transaction.atomic
def supporter_score_recompute(*, campaign_id: int, person_id: int) -> SupporterScore | None:
    """Rebuild one person's score from their attempts (latest by effective time, then id)."""
    list(
        SupporterScore.objects.select_for_update()
        .filter(campaign_id=campaign_id, person_id=person_id)
        .values("pk")
    )
    latest = (
        ContactAttempt.objects.filter(
            campaign_id=campaign_id, person_id=person_id, supporter_id__isnull=False
        )
        .order_by("-effective_time", "-id")
        .first()
    )
    if latest is None:
        SupporterScore.objects.filter(campaign_id=campaign_id, person_id=person_id).delete()
        return None
    assert latest.supporter_id is not None
    score, _ = SupporterScore.objects.update_or_create(
        campaign_id=campaign_id,
        person_id=person_id,
        defaults={
            "score": latest.supporter_id,
            "attempt": latest,
            "effective_time": latest.effective_time,
        },
    )
    return score


@transaction.atomic
def household_result_recompute(*, campaign_id: int, household_id: int) -> HouseholdResult | None:
    """Rebuild one door's result from its attempts."""
    list(
        HouseholdResult.objects.select_for_update()
        .filter(campaign_id=campaign_id, household_id=household_id)
        .values("pk")
    )
    attempts = list(
        ContactAttempt.objects.filter(campaign_id=campaign_id, household_id=household_id)
        .select_related("result_code")
        .order_by("-effective_time", "-id")
    )
    if not attempts:
        HouseholdResult.objects.filter(campaign_id=campaign_id, household_id=household_id).delete()
        return None
    latest = attempts[0]
    result, _ = HouseholdResult.objects.update_or_create(
        campaign_id=campaign_id,
        household_id=household_id,
        defaults={
            "attempt": latest,
            "result_code_id": latest.result_code_id,
            "effective_time": latest.effective_time,
            "attempts": len(attempts),
            "ever_contacted": any(a.result_code.is_contact for a in attempts),
            "is_final": any(a.result_code.is_final for a in attempts),
        },
    )
    return result


__all__ = [
    "CREATED",
    "DUPLICATE",
    "REJECTED",
    "BatchResult",
    "MergeContext",
    "Receipt",
    "batch_too_large",
    "contact_attempt_merge",
    "contacts_merge",
    "household_door_finalize_if_empty",
    "household_result_recompute",
    "item_content_hash",
    "merge_context_build",
    "person_correction_apply",
    "person_create_at_door",
    "signup_merge",
    "supporter_score_recompute",
    "sync_batch_merge",
    "sync_campaign_resolve",
    "sync_items_merge",
]
