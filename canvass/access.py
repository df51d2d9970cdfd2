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
from django.db.models import QuerySet
from django.utils import timezone

from canvass.errors import Forbidden, NotFound
from canvass.models import Campaign, Membership, Person, Role
from turf.models import Assignment, District, Household, Turf, TurfDoor
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
    membership = (
        Membership.objects.select_related("campaign", "campaign__organization", "team", "user")
        .filter(user=user, campaign_id=campaign_pk)
        .first()
    )
    if membership is None:
        raise NotFound("Campaign not found.")
    if membership.role not in roles:
        raise Forbidden(f"Your role ({membership.role}) may not do this in this campaign.")
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
    turf = (
        Turf.objects.filter(pk=pk, campaign__memberships__user=user)
        .select_related("campaign")
        .first()
        if user.is_authenticated
        else None
    )
    if turf is None:
        raise NotFound("Turf not found.")
    membership = membership_require(user=user, campaign_id=turf.campaign_id, roles=ALL_ROLES)
    if (
        membership.role == Role.CANVASSER
        and not turfs_visible_to(membership).filter(pk=pk).exists()
    ):
        raise NotFound("Turf not found.")
    if membership.role not in roles:
        raise Forbidden(f"Your role ({membership.role}) may not do this in this campaign.")
    return turf, membership
