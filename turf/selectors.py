"""Reads over the geography of an organization's universe (districts).

Scoping (who may read which organization) is decided by `canvass.access`; these functions
take an already-scoped queryset and shape it for reading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, IntegerField, Model, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from turf.models import District, Household

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

DistrictHousehold = Household.districts.through


class HouseholdCount(TypedDict):
    household_count: int


class HouseholdIdRow(TypedDict):
    household_id: int


def districts_with_household_counts(
    districts: QuerySet[District],
) -> QuerySet[WithAnnotations[District, HouseholdCount]]:
    """Annotate `household_count` (doors in the district) without N+1 queries.

    A correlated subquery over the M2M table rather than `Count("households")`: the latter
    groups by every District column, including the big geometry JSON, which is slow and, for
    `json` columns on PostgreSQL, not even possible.
    """
    counts = (
        DistrictHousehold.objects.filter(district_id=OuterRef("pk"))
        .order_by()
        .values("district_id")
        .annotate(n=Count("household_id"))
        # django-stubs does not track annotations on an auto-created M2M through model:
        .values("n")  # type: ignore[misc]
    )
    return districts.annotate(
        household_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))
    )


def district_ids_containing_households(
    districts: QuerySet[District],
) -> QuerySet[Model, HouseholdIdRow]:
    """Household ids in any of `districts`, as a subquery for `pk__in` (no join, no DISTINCT)."""
    return DistrictHousehold.objects.filter(district__in=districts).values("household_id")
