"""The voter universe of a campaign's organization: districts (GeoJSON), households, people.

Who may call what (rules in canvass.access):
- districts: every role of the campaign (aggregate map data, no PII);
- households and people: directors (all) and organizers (households of turfs assigned to their
  team); canvassers and viewers get 403 `universe_forbidden`.
A campaign the caller has no role in, or an object outside its organization or scope, is 404.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from api.filters import CampaignFilterBackend, DistrictFilter, HouseholdFilter, PersonFilter
from api.pagination import DefaultPagination
from api.permissions import CampaignScopedMixin
from api.serializers.universe import (
    DistrictFeatureOutput,
    DistrictListQueryInput,
    HouseholdDetailOutput,
    HouseholdListOutput,
    PersonDetailOutput,
    PersonListOutput,
)
from canvass.access import universe_membership_require
from canvass.models import Membership, Person
from canvass.selectors import (
    district_get,
    district_list,
    household_get,
    household_list,
    person_get,
    person_list,
)
from turf.models import District, Household


class UniverseScopedMixin(CampaignScopedMixin):
    """Households and people: only roles that may list the voter universe."""

    def get_membership(self) -> Membership:
        cached = getattr(self, "_membership", None)
        if cached is None:
            cached = universe_membership_require(
                user=self.request.user, campaign_id=self.kwargs["campaign_id"]
            )
            self._membership = cached
        return cached


class FeatureCollectionPagination(PageNumberPagination):
    """Pages of features as one RFC 7946 FeatureCollection (count/next/previous are foreign
    members, which the RFC allows). A state-wide organization has thousands of precincts."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(
            OrderedDict(
                [
                    ("type", "FeatureCollection"),
                    ("count", self.page.paginator.count),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("features", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["type", "count", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "count": {"type": "integer"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "features": schema,
            },
        }


def _include_geometry(request: Request) -> bool:
    params = DistrictListQueryInput(data=request.query_params)
    params.is_valid(raise_exception=True)
    return bool(params.validated_data["geometry"])


_GEOMETRY_PARAM = OpenApiParameter(
    "geometry", bool, description="false: geometries are null (a light list). Default true."
)


class DistrictListView(CampaignScopedMixin, generics.ListAPIView):
    """Districts of the campaign's organization as a GeoJSON FeatureCollection (any role)."""

    serializer_class = DistrictFeatureOutput
    pagination_class = FeatureCollectionPagination
    filter_backends = [CampaignFilterBackend]
    filterset_class = DistrictFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request
            return District.objects.none()
        qs = district_list(membership=self.get_membership())
        if not self._include_geometry:
            qs = qs.defer("geometry", "properties")
        return qs

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "include_geometry": self._include_geometry}

    @extend_schema(operation_id="campaign_districts_list", parameters=[_GEOMETRY_PARAM])
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        self.get_membership()  # 404 before anything else for a campaign of someone else
        self._include_geometry = _include_geometry(request)
        return self.list(request, *args, **kwargs)


class DistrictDetailView(CampaignScopedMixin, generics.GenericAPIView):
    serializer_class = DistrictFeatureOutput

    @extend_schema(
        operation_id="campaign_districts_retrieve",
        parameters=[_GEOMETRY_PARAM],
        responses={200: DistrictFeatureOutput},
    )
    def get(self, request: Request, campaign_id: int, district_id: int) -> Response:
        membership = self.get_membership()
        include_geometry = _include_geometry(request)
        district = district_get(membership=membership, district_id=district_id)
        return Response(
            DistrictFeatureOutput(district, context={"include_geometry": include_geometry}).data
        )


class HouseholdListView(UniverseScopedMixin, generics.ListAPIView):
    """Households (doors) the caller may see: directors all, organizers their team's turfs."""

    serializer_class = HouseholdListOutput
    pagination_class = DefaultPagination
    filter_backends = [CampaignFilterBackend]
    filterset_class = HouseholdFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request
            return Household.objects.none()
        return household_list(membership=self.get_membership())

    @extend_schema(operation_id="campaign_households_list")
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self.list(request, *args, **kwargs)


class HouseholdDetailView(UniverseScopedMixin, generics.GenericAPIView):
    serializer_class = HouseholdDetailOutput

    @extend_schema(operation_id="campaign_households_retrieve")
    def get(self, request: Request, campaign_id: int, household_id: int) -> Response:
        household = household_get(membership=self.get_membership(), household_id=household_id)
        return Response(HouseholdDetailOutput(household).data)


class PersonListView(UniverseScopedMixin, generics.ListAPIView):
    """People the caller may see, with their supporter ID in this campaign."""

    serializer_class = PersonListOutput
    pagination_class = DefaultPagination
    filter_backends = [CampaignFilterBackend]
    filterset_class = PersonFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request
            return Person.objects.none()
        return person_list(membership=self.get_membership())

    @extend_schema(operation_id="campaign_people_list")
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self.list(request, *args, **kwargs)


class PersonDetailView(UniverseScopedMixin, generics.GenericAPIView):
    serializer_class = PersonDetailOutput

    @extend_schema(operation_id="campaign_people_retrieve")
    def get(self, request: Request, campaign_id: int, person_id: int) -> Response:
        person = person_get(membership=self.get_membership(), person_id=person_id)
        return Response(PersonDetailOutput(person).data)
