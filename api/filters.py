"""FilterSets for the voter-universe lists (django-filter), one per resource.

Every filter narrows an already-scoped queryset (see canvass.access); none can widen it. Filters
that depend on campaign data (results, supporter scores, turfs) receive the campaign from the
view through `CampaignFilterBackend`. Invalid values answer 400 `invalid` naming the parameter.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from canvass.access import MAX_ID
from canvass.models import (
    Campaign,
    HouseholdResult,
    Party,
    Person,
    RegistrationStatus,
    SupporterScore,
)
from turf.models import District, DistrictKind, Household, TurfDoor
from turf.selectors import district_ids_containing_households


class CampaignFilterBackend(DjangoFilterBackend):
    """Passes the caller's campaign (resolved and authorized by the view) to the FilterSet."""

    def get_filterset_kwargs(self, request, queryset, view):  # type: ignore[no-untyped-def]
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        kwargs["campaign"] = view.get_membership().campaign
        return kwargs


class CampaignFilterSet(django_filters.FilterSet):
    def __init__(self, *args: Any, campaign: Campaign | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign

    def campaign_ids(self) -> list[int]:
        """`[campaign id]` for `campaign_id__in` lookups: empty without a campaign, so that the
        filters on campaign data match nothing."""
        return [self.campaign.pk] if self.campaign is not None else []


class IdFilter(django_filters.Filter):
    """An object id: a whole number within the database's bigint range. The stock NumberFilter
    takes any decimal ("1.5", "1e300"), and a value past bigint overflowed in the database
    driver (a 500): here it answers 400 `invalid` naming the parameter."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class YearFilter(django_filters.Filter):
    """A year (of birth): a whole number from 1800 to 2200 (400 `invalid` otherwise)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, min_value=1800, max_value=2200, **kwargs)


class BBoxField(forms.CharField):
    """`min_lon,min_lat,max_lon,max_lat` in WGS84 degrees (the RFC 7946 bbox order)."""

    def clean(self, value: Any) -> tuple[float, float, float, float] | None:
        value = super().clean(value)
        if not value:
            return None
        parts = value.split(",")
        try:
            if len(parts) != 4:
                raise ValueError
            min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
        except ValueError:
            raise forms.ValidationError(
                "Expected four numbers: min_lon,min_lat,max_lon,max_lat.", code="invalid_bbox"
            ) from None
        if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise forms.ValidationError(
                "Expected -180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90.",
                code="invalid_bbox",
            )
        return min_lon, min_lat, max_lon, max_lat


@extend_schema_field(OpenApiTypes.STR)
class BBoxFilter(django_filters.Filter):
    field_class = BBoxField

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if not value:
            return qs
        min_lon, min_lat, max_lon, max_lat = value
        # Bounding boxes intersect: a cheap, index-friendly test good enough for map tiles.
        return qs.filter(
            min_lon__lte=max_lon, max_lon__gte=min_lon, min_lat__lte=max_lat, max_lat__gte=min_lat
        )


def _district_match(kind: str, value: str) -> QuerySet[District]:
    """Districts of `kind` whose code or name is `value` (precinct "9-3", ward "9")."""
    return District.objects.filter(kind=kind).filter(Q(code__iexact=value) | Q(name__iexact=value))


class DistrictFilter(CampaignFilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=DistrictKind.choices)
    parent = IdFilter(field_name="parent_id", help_text="Id of the parent district.")
    code = django_filters.CharFilter(field_name="code", lookup_expr="iexact")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    bbox = BBoxFilter(
        help_text="min_lon,min_lat,max_lon,max_lat: districts whose bounding box intersects it."
    )

    class Meta:
        model = District
        fields = ["kind", "parent", "code", "name", "bbox"]


class _UniverseFilter(CampaignFilterSet):
    """Geography filters shared by households and people (`prefix` reaches the household)."""

    household_prefix = ""

    def _in_districts(self, qs: QuerySet[Any], districts: QuerySet[District]) -> QuerySet[Any]:
        return qs.filter(
            **{f"{self.household_prefix}pk__in": district_ids_containing_households(districts)}
        )

    def filter_district(self, qs: QuerySet[Any], name: str, value: int) -> QuerySet[Any]:
        return self._in_districts(qs, District.objects.filter(pk=value))

    def filter_precinct(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return self._in_districts(qs, _district_match(DistrictKind.PRECINCT, value))

    def filter_ward(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return self._in_districts(qs, _district_match(DistrictKind.WARD, value))

    def filter_turf(self, qs: QuerySet[Any], name: str, value: int) -> QuerySet[Any]:
        # Only turfs of this campaign: another campaign's turf id yields nothing.
        doors = TurfDoor.objects.filter(
            turf_id=value, turf__campaign_id__in=self.campaign_ids()
        ).values("household_id")
        return qs.filter(**{f"{self.household_prefix}pk__in": doors})


_DISTRICT_HELP = "District id: households inside it."
_UPDATED_HELP = "ISO 8601 date-time: only rows changed at or after it (incremental export)."


class HouseholdFilter(_UniverseFilter):
    district = IdFilter(method="filter_district", help_text=_DISTRICT_HELP)
    precinct = django_filters.CharFilter(
        method="filter_precinct", help_text="Precinct code or name, e.g. 9-3."
    )
    ward = django_filters.CharFilter(method="filter_ward", help_text="Ward code or name, e.g. 9.")
    turf = IdFilter(method="filter_turf", help_text="Turf id of this campaign.")
    street = django_filters.CharFilter(field_name="street", lookup_expr="iexact")
    house_number = django_filters.CharFilter(field_name="house_number", lookup_expr="iexact")
    zip_code = django_filters.CharFilter(field_name="zip_code")
    city = django_filters.CharFilter(field_name="city", lookup_expr="iexact")
    building_key = django_filters.CharFilter(field_name="building_key")
    is_final = django_filters.BooleanFilter(field_name="is_final")
    has_people = django_filters.BooleanFilter(method="filter_has_people")
    result = django_filters.CharFilter(
        method="filter_result", help_text="Code of this campaign's latest result at the door."
    )
    knocked = django_filters.BooleanFilter(
        method="filter_knocked", help_text="Whether the door was knocked in this campaign."
    )
    q = django_filters.CharFilter(
        method="filter_q", help_text="Address search: every word must match the address."
    )
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text=_UPDATED_HELP
    )

    class Meta:
        model = Household
        fields: list[str] = []

    def filter_has_people(self, qs: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return qs
        with_people = Person.objects.filter(household__isnull=False).values("household_id")
        return qs.filter(pk__in=with_people) if value else qs.exclude(pk__in=with_people)

    def _results(self) -> QuerySet[HouseholdResult]:
        return HouseholdResult.objects.filter(campaign_id__in=self.campaign_ids())

    def filter_result(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return qs.filter(
            pk__in=self._results().filter(result_code__code=value).values("household_id")
        )

    def filter_knocked(self, qs: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return qs
        knocked = self._results().values("household_id")
        return qs.filter(pk__in=knocked) if value else qs.exclude(pk__in=knocked)

    def filter_q(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        for term in value.split()[:8]:
            qs = qs.filter(
                Q(house_number__iexact=term)
                | Q(street__icontains=term)
                | Q(unit__iexact=term)
                | Q(zip_code=term)
                | Q(external_id=term)
            )
        return qs


class PersonFilter(_UniverseFilter):
    household_prefix = "household__"

    district = IdFilter(method="filter_district", help_text=_DISTRICT_HELP)
    precinct = django_filters.CharFilter(
        method="filter_precinct", help_text="Precinct code or name, e.g. 9-3."
    )
    ward = django_filters.CharFilter(method="filter_ward", help_text="Ward code or name, e.g. 9.")
    turf = IdFilter(method="filter_turf", help_text="Turf id of this campaign.")
    household = IdFilter(field_name="household_id", help_text="Household id.")
    street = django_filters.CharFilter(field_name="household__street", lookup_expr="iexact")
    party = django_filters.MultipleChoiceFilter(choices=Party.choices)
    registration_status = django_filters.MultipleChoiceFilter(choices=RegistrationStatus.choices)
    has_phone = django_filters.BooleanFilter(method="filter_has_phone")
    has_email = django_filters.BooleanFilter(method="filter_has_email")
    is_deceased = django_filters.BooleanFilter(field_name="is_deceased")
    has_moved = django_filters.BooleanFilter(field_name="has_moved")
    external_voter_id = django_filters.CharFilter(field_name="external_voter_id")
    born_from = YearFilter(
        field_name="year_of_birth", lookup_expr="gte", help_text="Born in or after this year."
    )
    born_to = YearFilter(
        field_name="year_of_birth", lookup_expr="lte", help_text="Born in or before this year."
    )
    supporter_score = django_filters.MultipleChoiceFilter(
        method="filter_supporter_score",
        choices=[(str(n), str(n)) for n in range(1, 6)],
        help_text="Current supporter ID in this campaign (1 strong support .. 5 strong oppose).",
    )
    q = django_filters.CharFilter(
        method="filter_q",
        help_text="Name or address search: every word must match a name, the voter id or street.",
    )
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text=_UPDATED_HELP
    )

    class Meta:
        model = Person
        fields: list[str] = []

    def filter_has_phone(self, qs: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return qs
        return qs.exclude(phone="") if value else qs.filter(phone="")

    def filter_has_email(self, qs: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return qs
        return qs.exclude(email="") if value else qs.filter(email="")

    def filter_supporter_score(
        self, qs: QuerySet[Any], name: str, value: list[str]
    ) -> QuerySet[Any]:
        if not value:
            return qs
        scored = SupporterScore.objects.filter(
            campaign_id__in=self.campaign_ids(),
            score__in=[int(v) for v in value],
        ).values("person_id")
        return qs.filter(pk__in=scored)

    def filter_q(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        for term in value.split()[:8]:
            qs = qs.filter(
                Q(first_name__istartswith=term)
                | Q(last_name__istartswith=term)
                | Q(middle_name__istartswith=term)
                | Q(external_voter_id=term)
                | Q(household__street__icontains=term)
                | Q(household__house_number__iexact=term)
            )
        return qs
