"""Reads of the voter universe (households, people) for one campaign member.

Every function starts from `canvass.access`, the only way campaign data is fetched, and adds
what a reader needs in a constant number of queries (annotations and prefetches, never a query
per row).
"""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from canvass.access import districts_visible_to, households_visible_to, people_visible_to
from canvass.errors import NotFound
from canvass.models import HouseholdResult, Membership, Person, SupporterScore
from turf.models import District, Household
from turf.selectors import districts_with_household_counts


def _pk(value: int | str, label: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound(f"{label} not found.") from None


def district_list(*, membership: Membership) -> QuerySet[District]:
    """The organization's districts with `household_count`, ordered by kind and name."""
    return districts_with_household_counts(districts_visible_to(membership)).order_by(
        "kind", "name", "id"
    )


def district_get(*, membership: Membership, district_id: int | str) -> District:
    district = district_list(membership=membership).filter(pk=_pk(district_id, "District")).first()
    if district is None:
        raise NotFound("District not found.")
    return district


def household_list(*, membership: Membership) -> QuerySet[Household]:
    """Households the member may see, with `people_count`, `district_ids_list` and this
    campaign's `campaign_results` (0 or 1 HouseholdResult, its result code joined)."""
    campaign_id = membership.campaign_id
    people_count = (
        Person.objects.filter(household_id=OuterRef("pk"))
        .order_by()
        .values("household_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        households_visible_to(membership)
        .annotate(
            people_count=Coalesce(Subquery(people_count, output_field=IntegerField()), Value(0))
        )
        .prefetch_related(
            Prefetch(
                "districts",
                # Only ids are needed; never load the geometries of every district.
                queryset=District.objects.filter(
                    organization_id=membership.campaign.organization_id
                ).only("id"),
                to_attr="district_list",
            ),
            Prefetch(
                "results",
                queryset=HouseholdResult.objects.filter(campaign_id=campaign_id).select_related(
                    "result_code"
                ),
                to_attr="campaign_results",
            ),
        )
    )


def household_get(*, membership: Membership, household_id: int | str) -> Household:
    """One household the member may see, with its people (this campaign's scores annotated)."""
    pk = _pk(household_id, "Household")
    household = (
        household_list(membership=membership)
        .filter(pk=pk)
        .prefetch_related(
            Prefetch(
                "people",
                queryset=_with_supporter_score(Person.objects.all(), membership.campaign_id),
                to_attr="resident_list",
            )
        )
        .first()
    )
    if household is None:
        raise NotFound("Household not found.")
    return household


def _with_supporter_score(people: QuerySet[Person], campaign_id: int) -> QuerySet[Person]:
    score = SupporterScore.objects.filter(campaign_id=campaign_id, person_id=OuterRef("pk")).values(
        "score"
    )[:1]
    return people.annotate(supporter_score=Subquery(score, output_field=IntegerField()))


def person_list(*, membership: Membership) -> QuerySet[Person]:
    """People the member may see, with their household and `supporter_score` in this campaign."""
    return _with_supporter_score(
        people_visible_to(membership).select_related("household"), membership.campaign_id
    )


def person_get(*, membership: Membership, person_id: int | str) -> Person:
    person = person_list(membership=membership).filter(pk=_pk(person_id, "Person")).first()
    if person is None:
        raise NotFound("Person not found.")
    return person
