"""Django admin for the geography: what a field director needs to look up a door, a turf or an
assignment fast. Voter universes are big (millions of doors), so list pages never count the
whole table, foreign keys to households are raw ids, and columns come from annotations."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from canvass.admin_generics import ModelAdmin, TabularInline
from turf.models import Assignment, CutRun, District, Household, MapLayer, Turf, TurfDoor
from turf.selectors import HouseholdCount, districts_with_household_counts

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _TurfCount(TypedDict):
    _turf_count: int


@admin.register(District)
class DistrictAdmin(ModelAdmin[District]):
    list_display = ["name", "kind", "code", "parent", "organization", "door_count"]
    list_filter = ["kind", "organization"]
    search_fields = ["name", "code"]
    list_select_related = ["parent", "organization"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["min_lon", "min_lat", "max_lon", "max_lat", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[District]:
        # Not Count("households"): that would GROUP BY the geometry column.
        return districts_with_household_counts(super().get_queryset(request))

    @admin.display(description="doors", ordering="household_count")
    def door_count(self, obj: WithAnnotations[District, HouseholdCount]) -> int:
        return obj.household_count


@admin.register(Household)
class HouseholdAdmin(ModelAdmin[Household]):
    list_display = ["__str__", "city", "zip_code", "units_est", "building_key", "is_final"]
    list_filter = ["is_final", "organization", "city"]
    search_fields = ["house_number", "street", "unit", "address_key", "external_id", "zip_code"]
    raw_id_fields = ["districts"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False  # no COUNT(*) over millions of doors on every search


@admin.register(MapLayer)
class MapLayerAdmin(ModelAdmin[MapLayer]):
    list_display = ["name", "kind", "feature_count", "organization", "created_at"]
    list_filter = ["kind", "organization"]
    search_fields = ["name"]
    exclude = ["features"]  # a FeatureCollection of thousands of lines is not editable by hand
    readonly_fields = ["feature_count", "created_at"]


class TurfDoorInline(TabularInline[TurfDoor, Turf]):
    model = TurfDoor
    fields = ["position", "household"]
    raw_id_fields = ["household"]
    extra = 0
    ordering = ["position"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TurfDoor]:
        return super().get_queryset(request).select_related("household")


class AssignmentInline(TabularInline[Assignment, Turf]):
    model = Assignment
    fk_name = "turf"
    fields = ["canvasser", "created_at", "expires_at", "ended_at", "assigned_by"]
    raw_id_fields = ["canvasser", "assigned_by"]
    extra = 0


@admin.register(Turf)
class TurfAdmin(ModelAdmin[Turf]):
    list_display = [
        "__str__",
        "list_number",
        "name",
        "status",
        "version",
        "door_count",
        "campaign",
        "district",
        "published_at",
    ]
    list_filter = ["status", "campaign", "district__kind"]
    search_fields = ["list_number", "name"]
    list_select_related = ["campaign", "district"]
    raw_id_fields = ["district", "cut_run", "parent", "created_by"]
    readonly_fields = ["door_count", "version", "created_at", "updated_at"]
    exclude = ["polygon"]
    inlines = [AssignmentInline, TurfDoorInline]


@admin.register(CutRun)
class CutRunAdmin(ModelAdmin[CutRun]):
    list_display = ["id", "campaign", "district", "created_by", "created_at", "turf_count"]
    list_filter = ["campaign"]
    search_fields = ["district__name", "campaign__name"]
    list_select_related = ["campaign", "district", "created_by"]
    raw_id_fields = ["district", "created_by"]
    readonly_fields = ["parameters", "metrics", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CutRun]:
        return super().get_queryset(request).annotate(_turf_count=Count("turfs"))

    @admin.display(description="turfs", ordering="_turf_count")
    def turf_count(self, obj: WithAnnotations[CutRun, _TurfCount]) -> int:
        return obj._turf_count


@admin.register(Assignment)
class AssignmentAdmin(ModelAdmin[Assignment]):
    list_display = ["turf", "canvasser", "campaign", "created_at", "expires_at", "ended_at"]
    list_filter = ["campaign", ("ended_at", admin.EmptyFieldListFilter)]
    search_fields = ["turf__list_number", "turf__name", "canvasser__username"]
    list_select_related = ["turf", "canvasser", "campaign"]
    raw_id_fields = ["turf", "canvasser", "assigned_by"]
