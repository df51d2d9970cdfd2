"""Geography: districts, households (doors), map layers, turfs and assignments.

Geometries are stored as GeoJSON (RFC 7946, lon/lat) in JSON columns, with bounding-box
columns so that point-in-polygon work can prefilter in SQL; exact tests use shapely. This keeps
SQLite (zero set-up) and PostgreSQL (no PostGIS needed) on the same code path.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q


class DistrictKind(models.TextChoices):
    STATE_SENATE = "state_senate", "State senate"
    STATE_HOUSE = "state_house", "State house"
    CONGRESSIONAL = "congressional", "Congressional"
    WARD = "ward", "Ward"
    PRECINCT = "precinct", "Precinct"
    CITY = "city", "City"
    CUSTOM = "custom", "Custom"


class DistrictQuerySet(models.QuerySet["District"]):
    def in_organization(self, organization_id: int) -> DistrictQuerySet:
        return self.filter(organization_id=organization_id)

    def bbox_contains(self, lon: float, lat: float) -> DistrictQuerySet:
        """Districts whose bounding box holds the point: a cheap prefilter before shapely."""
        return self.filter(min_lon__lte=lon, max_lon__gte=lon, min_lat__lte=lat, max_lat__gte=lat)


class District(models.Model):
    organization = models.ForeignKey(
        "canvass.Organization", on_delete=models.CASCADE, related_name="districts"
    )
    kind = models.CharField(max_length=16, choices=DistrictKind.choices)
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=64, blank=True, help_text="External code, e.g. '9-3'.")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    geometry = models.JSONField(help_text="GeoJSON Polygon or MultiPolygon, lon/lat (RFC 7946).")
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DistrictQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "name"], name="district_unique_name"
            )
        ]
        indexes = [models.Index(fields=["organization", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"


class HouseholdQuerySet(models.QuerySet["Household"]):
    def in_organization(self, organization_id: int) -> HouseholdQuerySet:
        return self.filter(organization_id=organization_id)

    def in_district(self, district_id: int) -> HouseholdQuerySet:
        return self.filter(districts__id=district_id)


class Household(models.Model):
    """One door: an address point a canvasser knocks at. A building may hold many doors."""

    organization = models.ForeignKey(
        "canvass.Organization", on_delete=models.CASCADE, related_name="households"
    )
    external_id = models.CharField(max_length=64, blank=True)
    house_number = models.CharField(max_length=20, blank=True)
    street = models.CharField(max_length=120)
    unit = models.CharField(max_length=40, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    # Normalized "NUMBER|STREET|UNIT" (St/Street, Ave/Avenue ... unified): the offline geocoder key.
    address_key = models.CharField(max_length=200)
    lon = models.FloatField()
    lat = models.FloatField()
    building_key = models.CharField(max_length=64)
    units_est = models.PositiveIntegerField(default=1)
    districts = models.ManyToManyField(District, blank=True, related_name="households")
    # Set when a resident is reported moved/deceased and nobody is left to visit (every campaign).
    is_final = models.BooleanField(default=False)
    final_reason = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        ordering = ["street", "house_number", "unit", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="household_external_id_unique_per_org",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "address_key"]),
            models.Index(fields=["organization", "street", "house_number"]),
            models.Index(fields=["organization", "building_key"]),
            models.Index(fields=["organization", "lon", "lat"]),
            # Batch look-ups by external id (imports): see Person's matching index.
            models.Index(fields=["organization", "external_id"]),
        ]

    def __str__(self) -> str:
        unit = f" #{self.unit}" if self.unit else ""
        return f"{self.house_number} {self.street}{unit}".strip()


class LayerKind(models.TextChoices):
    RAIL = "rail", "Railway (barrier)"
    WATER = "water", "Water (barrier)"
    HIGHWAY = "highway", "Highway (barrier)"
    STREETS = "streets", "Street centerlines"


class MapLayer(models.Model):
    """Barriers and street centerlines used by the turf engine, imported from GeoJSON."""

    organization = models.ForeignKey(
        "canvass.Organization", on_delete=models.CASCADE, related_name="layers"
    )
    kind = models.CharField(max_length=16, choices=LayerKind.choices)
    name = models.CharField(max_length=200)
    features = models.JSONField(help_text="GeoJSON FeatureCollection, lon/lat.")
    feature_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "name"], name="layer_unique_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.name}"


class TurfStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class TurfQuerySet(models.QuerySet["Turf"]):
    def in_campaign(self, campaign_id: int) -> TurfQuerySet:
        return self.filter(campaign_id=campaign_id)

    def published(self) -> TurfQuerySet:
        return self.filter(status=TurfStatus.PUBLISHED)


class CutRun(models.Model):
    """One automatic cut of a district, committed as draft turfs."""

    campaign = models.ForeignKey(
        "canvass.Campaign", on_delete=models.CASCADE, related_name="cut_runs"
    )
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parameters = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class Turf(models.Model):
    """A set of doors with a walk order. Drafts are editable; published turfs are frozen."""

    campaign = models.ForeignKey("canvass.Campaign", on_delete=models.CASCADE, related_name="turfs")
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.SET_NULL, related_name="turfs"
    )
    cut_run = models.ForeignKey(
        CutRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="turfs"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    name = models.CharField(max_length=120, blank=True)
    # Short, unambiguous code a canvasser types or scans; set on publish, unique everywhere.
    list_number = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001 (NULL = unpublished; unique when set)
    status = models.CharField(max_length=16, choices=TurfStatus.choices, default=TurfStatus.DRAFT)
    version = models.PositiveIntegerField(default=1)
    door_count = models.PositiveIntegerField(default=0)
    polygon = models.JSONField(
        null=True, blank=True, help_text="GeoJSON Polygon/MultiPolygon, lon/lat."
    )
    metrics = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = TurfQuerySet.as_manager()

    class Meta:
        ordering = ["campaign", "list_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["list_number"],
                condition=Q(list_number__isnull=False),
                name="turf_list_number_unique",
            )
        ]
        indexes = [models.Index(fields=["campaign", "status"])]

    def __str__(self) -> str:
        return self.list_number or self.name or f"draft turf {self.pk}"


class TurfDoor(models.Model):
    turf = models.ForeignKey(Turf, on_delete=models.CASCADE, related_name="turf_doors")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="turf_doors")
    position = models.PositiveIntegerField(help_text="0-based place in the walk order.")

    class Meta:
        ordering = ["turf", "position"]
        constraints = [
            models.UniqueConstraint(fields=["turf", "household"], name="turf_door_unique")
        ]
        indexes = [models.Index(fields=["turf", "position"]), models.Index(fields=["household"])]


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def active_at(self, when) -> AssignmentQuerySet:  # type: ignore[no-untyped-def]
        """Assignments in force at `when`: started, not ended, not expired."""
        return (
            self.filter(created_at__lte=when)
            .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=when))
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=when))
        )


def assignment_in_force(
    start: datetime, end: datetime | None, expires: datetime | None, when: datetime
) -> bool:
    """`AssignmentQuerySet.active_at` for an assignment's times already read: started at or
    before `when`, and neither ended nor expired by then."""
    return start <= when and (end is None or when < end) and (expires is None or when < expires)


class Assignment(models.Model):
    """A published turf given to a canvasser until it expires or is ended (unassigned)."""

    campaign = models.ForeignKey(
        "canvass.Campaign", on_delete=models.CASCADE, related_name="assignments"
    )
    turf = models.ForeignKey(Turf, on_delete=models.CASCADE, related_name="assignments")
    canvasser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one open assignment of a turf to the same canvasser.
            models.UniqueConstraint(
                fields=["turf", "canvasser"],
                condition=Q(ended_at__isnull=True),
                name="assignment_open_unique",
            )
        ]
        indexes = [
            models.Index(fields=["canvasser", "ended_at"]),
            models.Index(fields=["campaign", "ended_at"]),
        ]
