"""Who may see what (DESIGN.md §1-2). The API fetches campaign data only through these.

Rules:
- Nothing crosses organizations or campaigns: a user without a membership in a campaign gets
  `NotFound` for it and everything in it (never 403, never data). Objects of the organization's
  universe (districts, households, people) are reached only through a campaign the caller has a
  role in, and only within that campaign's organization.
- Directors see everything in the campaign.
- Organizers see turfs and progress, and voter PII (addresses, names, phones) only for the
  households of turfs currently assigned to a canvasser of their own team. An organizer without
  a team sees no PII.
- Canvassers see only the households and people of turfs assigned to them, through packets and
  sync; they may not list the voter universe (the household and people lists answer 403).
- Viewers (candidates) see aggregates only: campaigns, district maps with door counts, reports.
- Districts are public-record geography with aggregate counts and no PII, so every role of the
  campaign may read them (a canvasser needs the map too).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TypedDict

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from canvass.errors import Forbidden, NotFound
from canvass.models import Campaign, Membership, Organization, Person, Role, Team
from canvass.rows import RowModel, prepared_cursor
from turf.models import Assignment, District, Household, Turf, TurfDoor, TurfStatus
from turf.selectors import HouseholdIdRow

# The request user: the project's user model (what user foreign keys point to) or anonymous.
AnyUser = User | AnonymousUser

STAFF_ROLES = frozenset({Role.DIRECTOR, Role.ORGANIZER})
ALL_ROLES = frozenset(Role.values)
# Roles that may list the voter universe (households and people with PII), DESIGN.md §1.
UNIVERSE_ROLES = STAFF_ROLES


def campaigns_visible_to(user: AnyUser) -> QuerySet[Campaign]:
    if not user.is_authenticated:
        return Campaign.objects.none()
    return Campaign.objects.filter(memberships__user=user).select_related("organization")


def membership_require(
    *, user: AnyUser, campaign_id: int | str, roles: Collection[str] = ALL_ROLES
) -> Membership:
    """The caller's membership in the campaign, or NotFound / Forbidden.

    NotFound when the user has no role in the campaign (including a campaign of another
    organization, or a malformed id); Forbidden when the role is not among `roles`.
    """
    if not user.is_authenticated:
        raise NotFound("Campaign not found.")
    try:
        campaign_pk = int(campaign_id)
    except (TypeError, ValueError):
        raise NotFound("Campaign not found.") from None
    membership = _membership_fetch(user, campaign_pk)
    if membership is None:
        raise NotFound("Campaign not found.")
    if membership.role not in roles:
        raise Forbidden(f"Your role ({membership.role}) may not do this in this campaign.")
    return membership


_MEMBERSHIP = RowModel(Membership, "m")
_CAMPAIGN = RowModel(Campaign, "c")
_ORGANIZATION = RowModel(Organization, "o")
_TEAM = RowModel(Team, "t")
_MEMBERSHIP_SQL = (
    f"SELECT {_MEMBERSHIP.select}, {_CAMPAIGN.select}, {_ORGANIZATION.select}, {_TEAM.select} "
    f"FROM {Membership._meta.db_table} m "
    f"JOIN {Campaign._meta.db_table} c ON c.id = m.campaign_id "
    f"JOIN {Organization._meta.db_table} o ON o.id = c.organization_id "
    f"LEFT JOIN {Team._meta.db_table} t ON t.id = m.team_id "
    "WHERE m.user_id = %s AND m.campaign_id = %s"
)
# The largest id a bigint primary key holds: past it, the database driver overflows (a 500).
MAX_ID = 2**63 - 1
_BIGINT = range(-MAX_ID - 1, MAX_ID + 1)


def _membership_fetch(user: User, campaign_pk: int) -> Membership | None:
    """The membership with its campaign, organization and team (and `user` as its user): what
    `select_related` would give, from one raw statement (every request makes it; the ORM
    queryset cost ~1.5 ms of CPU to build, bench/README.md ## Sync)."""
    if campaign_pk not in _BIGINT:
        return None
    with prepared_cursor() as cursor:
        cursor.execute(_MEMBERSHIP_SQL, [user.pk, campaign_pk])
        row = cursor.fetchone()
    if row is None:
        return None
    membership = _MEMBERSHIP.build(row)
    campaign = _CAMPAIGN.build(row, _MEMBERSHIP.width)
    offset = _MEMBERSHIP.width + _CAMPAIGN.width
    campaign.organization = _ORGANIZATION.build(row, offset)
    membership.campaign = campaign
    team_start = offset + _ORGANIZATION.width
    membership.team = _TEAM.build(row, team_start) if row[team_start] is not None else None
    membership.user = user
    return membership


def universe_membership_require(*, user: AnyUser, campaign_id: int | str) -> Membership:
    """Like `membership_require`, for listing households and people (voter PII).

    Canvassers and viewers get a Forbidden with the stable code `universe_forbidden`:
    canvassers reach voters only through their assigned turfs (packets, sync), viewers never.
    """
    membership = membership_require(user=user, campaign_id=campaign_id, roles=ALL_ROLES)
    if membership.role not in UNIVERSE_ROLES:
        raise Forbidden(
            f"Your role ({membership.role}) cannot list the voter universe in this campaign.",
            code="universe_forbidden",
        )
    return membership


def assignments_active_for(user: AnyUser, *, at: datetime | None = None) -> QuerySet[Assignment]:
    """Open, unexpired assignments of the user to published turfs."""
    if not user.is_authenticated:
        return Assignment.objects.none()
    when = at or timezone.now()
    return Assignment.objects.active_at(when).filter(canvasser=user, turf__status="published")


class TurfIdRow(TypedDict):
    turf_id: int


def team_turf_ids(membership: Membership) -> QuerySet[Assignment, TurfIdRow]:
    """Turf ids assigned (now) to canvassers of the organizer's team."""
    now = timezone.now()
    return (
        Assignment.objects.active_at(now)
        .filter(
            campaign_id=membership.campaign_id,
            canvasser__memberships__campaign_id=membership.campaign_id,
            canvasser__memberships__team=membership.team_id,
        )
        .values("turf_id")
    )


def _households_in_turfs(
    turf_ids: QuerySet[Assignment, TurfIdRow],
) -> QuerySet[TurfDoor, HouseholdIdRow]:
    # A `pk__in` subquery rather than a join + DISTINCT: a door in two turfs must not come back
    # twice, and DISTINCT over wide rows (and annotations) is slow and fragile on PostgreSQL.
    return TurfDoor.objects.filter(turf_id__in=turf_ids).values("household_id")


def households_visible_to(membership: Membership) -> QuerySet[Household]:
    """Households the member may see with addresses (voter PII), within the campaign's org."""
    campaign = membership.campaign
    qs = Household.objects.filter(organization_id=campaign.organization_id)
    if membership.role == Role.DIRECTOR:
        return qs
    if membership.role == Role.ORGANIZER:
        if membership.team_id is None:
            return qs.none()
        return qs.filter(pk__in=_households_in_turfs(team_turf_ids(membership)))
    if membership.role == Role.CANVASSER:
        turf_ids = (
            assignments_active_for(membership.user)
            .filter(campaign_id=campaign.pk)
            .values("turf_id")
        )
        return qs.filter(pk__in=_households_in_turfs(turf_ids))
    return qs.none()


def people_visible_to(membership: Membership) -> QuerySet[Person]:
    """People the member may see (names, phones: voter PII), within the campaign's org.

    Directors see everyone, including people without a household; others only the residents
    of the households they may see.
    """
    campaign = membership.campaign
    qs = Person.objects.filter(organization_id=campaign.organization_id)
    if membership.role == Role.DIRECTOR:
        return qs
    return qs.filter(household__in=households_visible_to(membership).values("pk"))


def districts_visible_to(membership: Membership) -> QuerySet[District]:
    """Districts of the campaign's organization: every role (maps carry no PII)."""
    return District.objects.filter(organization_id=membership.campaign.organization_id)


def turfs_visible_to(membership: Membership) -> QuerySet[Turf]:
    """Turfs of the campaign the member may see: all for staff and viewers (no PII in a turf
    summary), only the ones assigned to them for canvassers."""
    qs = Turf.objects.filter(campaign_id=membership.campaign_id)
    if membership.role == Role.CANVASSER:
        turf_ids = assignments_active_for(membership.user).values("turf_id")
        return qs.filter(pk__in=turf_ids)
    return qs


def turf_for_user(
    *, user: AnyUser, turf_id: int | str, roles: Collection[str] = ALL_ROLES
) -> tuple[Turf, Membership]:
    """A turf by id through the caller's campaign membership, or NotFound / Forbidden."""
    try:
        pk = int(turf_id)
    except (TypeError, ValueError):
        raise NotFound("Turf not found.") from None
    turf = _turf_fetch(user, pk) if user.is_authenticated else None
    if turf is None:
        raise NotFound("Turf not found.")
    membership = membership_require(user=user, campaign_id=turf.campaign_id, roles=ALL_ROLES)
    if membership.role == Role.CANVASSER and not _turf_assigned_now(membership, pk):
        raise NotFound("Turf not found.")
    if membership.role not in roles:
        raise Forbidden(f"Your role ({membership.role}) may not do this in this campaign.")
    return turf, membership


# `turf_for_user` runs on every packet fetch: its reads are raw statements (the querysets cost
# more to build than to run, bench/README.md ## Sync), returning what the ORM would.
_TURF = RowModel(Turf, "t")
_TURF_SQL = (
    f"SELECT {_TURF.select}, {_CAMPAIGN.select} FROM {Turf._meta.db_table} t "
    f"JOIN {Campaign._meta.db_table} c ON c.id = t.campaign_id "
    f"WHERE t.id = %s AND EXISTS (SELECT 1 FROM {Membership._meta.db_table} m "
    "WHERE m.campaign_id = t.campaign_id AND m.user_id = %s)"
)
# `turfs_visible_to(membership).filter(pk=...).exists()` for a canvasser: an assignment of
# theirs in force now (`Assignment.objects.active_at`) to this published turf of the campaign.
_TURF_ASSIGNED_SQL = (
    f"SELECT 1 FROM {Assignment._meta.db_table} a JOIN {Turf._meta.db_table} t "
    "ON t.id = a.turf_id WHERE a.canvasser_id = %s AND a.turf_id = %s AND t.campaign_id = %s "
    "AND t.status = %s AND a.created_at <= %s AND (a.ended_at IS NULL OR a.ended_at > %s) "
    "AND (a.expires_at IS NULL OR a.expires_at > %s) LIMIT 1"
)


def _turf_fetch(user: User, pk: int) -> Turf | None:
    """The turf with its campaign, when the user is a member of that campaign."""
    if pk not in _BIGINT:
        return None
    with prepared_cursor() as cursor:
        cursor.execute(_TURF_SQL, [pk, user.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    turf = _TURF.build(row)
    turf.campaign = _CAMPAIGN.build(row, _TURF.width)
    return turf


def _turf_assigned_now(membership: Membership, turf_id: int) -> bool:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with prepared_cursor() as cursor:
        cursor.execute(
            _TURF_ASSIGNED_SQL,
            [
                membership.user_id,
                turf_id,
                membership.campaign_id,
                TurfStatus.PUBLISHED.value,
                now,
                now,
                now,
            ],
        )
        return cursor.fetchone() is not None
