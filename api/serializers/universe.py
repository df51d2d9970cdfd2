"""Output serializers of the voter-universe endpoints (districts, households, people).

Read-only: the universe is written by imports. Each endpoint has its own uniquely named
serializer so the OpenAPI schema has no collisions.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from canvass.models import HouseholdResult, Person
from turf.models import District, Household


class DistrictListQueryInput(serializers.Serializer):
    geometry = serializers.BooleanField(
        default=True,
        help_text="false: leave geometries out (null) for a light list of names and counts.",
    )


class DistrictPropertiesOutput(serializers.ModelSerializer):
    parent_id = serializers.IntegerField(allow_null=True)
    household_count = serializers.IntegerField(help_text="Doors in the district.")

    class Meta:
        model = District
        fields = ["name", "kind", "code", "parent_id", "household_count"]


class DistrictFeatureOutput(serializers.Serializer):
    """A GeoJSON Feature (RFC 7946) for one district; `bbox` is [w, s, e, n]."""

    type = serializers.SerializerMethodField()
    id = serializers.IntegerField()
    bbox = serializers.SerializerMethodField()
    geometry = serializers.SerializerMethodField()
    properties = DistrictPropertiesOutput(source="*")

    def get_type(self, obj: District) -> str:
        return "Feature"

    def get_bbox(self, obj: District) -> list[float]:
        return [obj.min_lon, obj.min_lat, obj.max_lon, obj.max_lat]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_geometry(self, obj: District) -> dict[str, Any] | None:
        if not self.context.get("include_geometry", True):
            return None
        geometry: dict[str, Any] = obj.geometry
        return geometry


class DistrictFeatureCollectionOutput(serializers.Serializer):
    """A GeoJSON FeatureCollection; `count`, `next` and `previous` are foreign members."""

    type = serializers.CharField(default="FeatureCollection")
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    features = DistrictFeatureOutput(many=True)


class HouseholdLastResultOutput(serializers.ModelSerializer):
    result_code = serializers.CharField(source="result_code.code")
    label = serializers.CharField(source="result_code.label")
    is_contact = serializers.BooleanField(source="result_code.is_contact")

    class Meta:
        model = HouseholdResult
        fields = [
            "result_code",
            "label",
            "is_contact",
            "effective_time",
            "attempts",
            "ever_contacted",
            "is_final",
        ]


class _HouseholdBase(serializers.ModelSerializer):
    address = serializers.CharField(source="__str__")
    district_ids = serializers.SerializerMethodField()
    people_count = serializers.IntegerField()
    last_result = serializers.SerializerMethodField(
        help_text="This campaign's latest knock at the door, or null."
    )

    class Meta:
        model = Household
        fields = [
            "id",
            "external_id",
            "address",
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
            "district_ids",
            "people_count",
            "last_result",
            "updated_at",
        ]

    def get_district_ids(self, obj: Household) -> list[int]:
        return sorted(d.pk for d in obj.district_list)  # type: ignore[attr-defined]

    @extend_schema_field(HouseholdLastResultOutput(allow_null=True))
    def get_last_result(self, obj: Household) -> dict[str, Any] | None:
        results = obj.campaign_results  # type: ignore[attr-defined]
        return HouseholdLastResultOutput(results[0]).data if results else None


class HouseholdListOutput(_HouseholdBase):
    class Meta(_HouseholdBase.Meta):
        pass


class HouseholdResidentOutput(serializers.ModelSerializer):
    supporter_score = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "external_voter_id",
            "first_name",
            "middle_name",
            "last_name",
            "suffix",
            "party",
            "phone",
            "email",
            "year_of_birth",
            "registration_status",
            "supporter_score",
        ]


class HouseholdDetailOutput(_HouseholdBase):
    people = HouseholdResidentOutput(many=True, source="resident_list")

    class Meta(_HouseholdBase.Meta):
        fields = [*_HouseholdBase.Meta.fields, "people"]


class PersonHouseholdOutput(serializers.ModelSerializer):
    address = serializers.CharField(source="__str__")

    class Meta:
        model = Household
        fields = [
            "id",
            "address",
            "house_number",
            "street",
            "unit",
            "city",
            "zip_code",
            "lon",
            "lat",
        ]


class PersonOutput(serializers.ModelSerializer):
    household = PersonHouseholdOutput(allow_null=True)
    supporter_score = serializers.IntegerField(
        allow_null=True, help_text="Current supporter ID in this campaign (1-5), or null."
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "external_voter_id",
            "first_name",
            "middle_name",
            "last_name",
            "suffix",
            "party",
            "phone",
            "email",
            "year_of_birth",
            "language",
            "registration_status",
            "is_deceased",
            "has_moved",
            "source",
            "household",
            "supporter_score",
            "updated_at",
        ]


class PersonListOutput(PersonOutput):
    class Meta(PersonOutput.Meta):
        pass


class PersonDetailOutput(PersonOutput):
    class Meta(PersonOutput.Meta):
        pass
