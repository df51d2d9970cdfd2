"""Input and output serializers of the turf endpoints: one pair per endpoint, unique names.

Inputs only parse and type-check; the rules (drafts only, adjacency, valid geometry...) live in
`turf.services.turfs`, so the same rules hold for any caller.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers.fields import IdField
from turf.models import Assignment, CutRun, LayerKind, MapLayer, Turf

GROUP_BY_CHOICES = ["ward", "precinct"]


class TurfOutput(serializers.ModelSerializer):
    """A turf summary: no voter PII (counts, list number, polygon, metrics)."""

    district_id = serializers.IntegerField(allow_null=True)
    cut_run_id = serializers.IntegerField(allow_null=True)
    parent_id = serializers.IntegerField(allow_null=True)
    polygon = serializers.JSONField(
        allow_null=True, help_text="GeoJSON Polygon/MultiPolygon, lon/lat."
    )
    metrics = serializers.JSONField()

    class Meta:
        model = Turf
        fields = [
            "id",
            "name",
            "list_number",
            "status",
            "version",
            "door_count",
            "district_id",
            "cut_run_id",
            "parent_id",
            "polygon",
            "metrics",
            "created_at",
            "updated_at",
            "published_at",
            "archived_at",
        ]


class TurfDetailOutput(TurfOutput):
    household_ids = serializers.ListField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="Door (household) ids in walk order; directors only (null for other roles).",
    )

    class Meta(TurfOutput.Meta):
        fields = [*TurfOutput.Meta.fields, "household_ids"]


class TurfDrawInput(serializers.Serializer):
    polygon = serializers.JSONField(help_text="GeoJSON Polygon or MultiPolygon (lon/lat).")
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    district_id = IdField(required=False, allow_null=True, default=None)
    steal = serializers.BooleanField(
        default=False,
        help_text="Also take doors that are in other drafts (they leave those drafts).",
    )


class TurfUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=120, allow_blank=True)


class _CutFields(serializers.Serializer):
    district_id = IdField()
    target = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None, help_text="Doors per turf."
    )
    n_turfs = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    group_by = serializers.ChoiceField(
        choices=GROUP_BY_CHOICES,
        required=False,
        allow_null=True,
        default=None,
        help_text="Turfs never cross the lines of these districts.",
    )
    layer_ids = serializers.ListField(
        child=IdField(),
        required=False,
        allow_null=True,
        default=None,
        max_length=100,
        help_text="Barrier/street layers to use; default: all of the organization's.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("target") is None) == (attrs.get("n_turfs") is None):
            raise serializers.ValidationError(
                {"target": ["Give either target (doors per turf) or n_turfs, not both."]}
            )
        return attrs


class CutPreviewInput(_CutFields):
    pass


class CutCommitInput(_CutFields):
    replace_drafts = serializers.BooleanField(
        default=False, help_text="Delete draft turfs holding any of these doors first."
    )


class _RecutFields(_CutFields):
    exclude_final = serializers.BooleanField(
        default=True, help_text="Leave out doors with a final result (or marked final)."
    )
    only_not_contacted = serializers.BooleanField(
        default=False, help_text="Only doors never contacted in this campaign."
    )
    supporter_scores = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=5),
        required=False,
        allow_null=True,
        default=None,
        max_length=5,
        help_text="Only doors with a person of these supporter IDs (e.g. [1, 2] for GOTV).",
    )


class RecutPreviewInput(_RecutFields):
    pass


class RecutCommitInput(_RecutFields):
    replace_drafts = serializers.BooleanField(default=False)


class CutPreviewFeatureOutput(serializers.Serializer):
    type = serializers.CharField()
    geometry = serializers.JSONField(allow_null=True)
    properties = serializers.JSONField()


class CutPreviewOutput(serializers.Serializer):
    type = serializers.CharField()
    district_id = serializers.IntegerField()
    parameters = serializers.JSONField()
    metrics = serializers.JSONField()
    features = CutPreviewFeatureOutput(many=True)


class CutRunOutput(serializers.ModelSerializer):
    district_id = serializers.IntegerField(allow_null=True)
    parameters = serializers.JSONField()
    metrics = serializers.JSONField()
    turfs = TurfOutput(many=True)

    class Meta:
        model = CutRun
        fields = ["id", "district_id", "parameters", "metrics", "created_at", "turfs"]


class TurfSplitInput(serializers.Serializer):
    line = serializers.JSONField(help_text="GeoJSON LineString (lon/lat) crossing the turf.")


class TurfPairOutput(serializers.Serializer):
    turfs = TurfOutput(many=True)


class TurfMergeInput(serializers.Serializer):
    other = IdField(help_text="Id of the draft merged into this one (deleted).")


class TurfDoorsMoveInput(serializers.Serializer):
    household_ids = serializers.ListField(child=IdField(), min_length=1, max_length=10_000)
    to = IdField(help_text="Id of the destination draft.")


class AssignmentCreateInput(serializers.Serializer):
    canvasser_ids = serializers.ListField(child=IdField(), min_length=1, max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class AssignmentOutput(serializers.ModelSerializer):
    turf_id = serializers.IntegerField()
    canvasser_id = serializers.IntegerField()
    canvasser_username = serializers.CharField(source="canvasser.username")
    assigned_by_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "turf_id",
            "canvasser_id",
            "canvasser_username",
            "assigned_by_id",
            "created_at",
            "expires_at",
            "ended_at",
        ]


class AssignmentCreateOutput(serializers.Serializer):
    assignments = AssignmentOutput(many=True)


class LayerCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LayerKind.choices)
    name = serializers.CharField(max_length=200)
    geojson = serializers.JSONField(help_text="GeoJSON FeatureCollection, lon/lat.")
    filter = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        default=dict,
        help_text='Keep only features whose properties match, e.g. {"TYPE": "RAIL-ACTIVE"}.',
    )


class LayerOutput(serializers.ModelSerializer):
    class Meta:
        model = MapLayer
        fields = ["id", "kind", "name", "feature_count", "created_at"]
