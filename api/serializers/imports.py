from __future__ import annotations

from typing import Any

from rest_framework import serializers

from canvass.imports.voters import VOTER_PRESETS
from canvass.models import ImportRun
from turf.imports.doors import DOOR_PRESETS
from turf.models import DistrictKind

ENCODINGS = ["utf-8", "utf-8-sig", "latin-1", "cp1252"]


class DistrictImportInput(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="A GeoJSON file (multipart).")
    geojson = serializers.JSONField(
        required=False, help_text="A GeoJSON FeatureCollection (JSON body)."
    )
    kind = serializers.ChoiceField(choices=DistrictKind.choices)
    name_property = serializers.CharField(max_length=100)
    code_property = serializers.CharField(max_length=100, required=False, allow_blank=True)
    parent_kind = serializers.ChoiceField(choices=DistrictKind.choices, required=False)
    parent_property = serializers.CharField(max_length=100, required=False, allow_blank=True)
    dissolve = serializers.BooleanField(default=False)
    repair = serializers.BooleanField(default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("file" in attrs) == ("geojson" in attrs):
            raise serializers.ValidationError(
                {"file": ["Send either a GeoJSON file (multipart) or a geojson object (JSON)."]}
            )
        return attrs


class DoorImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or GeoJSON file (multipart).")
    format = serializers.ChoiceField(choices=["csv", "geojson"], required=False)
    preset = serializers.ChoiceField(choices=sorted(DOOR_PRESETS), required=False)
    mapping = serializers.JSONField(
        required=False, binary=True, help_text='JSON object: field -> column, e.g. {"lon": "x"}.'
    )
    encoding = serializers.ChoiceField(choices=ENCODINGS, default="utf-8")


class VoterImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="Voter file CSV (multipart).")
    preset = serializers.ChoiceField(choices=sorted(VOTER_PRESETS), required=False)
    mapping = serializers.JSONField(
        required=False, binary=True, help_text="JSON object: person field -> column."
    )
    encoding = serializers.ChoiceField(choices=ENCODINGS, default="utf-8")


class ImportRunOutput(serializers.ModelSerializer):
    issue_count = serializers.SerializerMethodField()

    class Meta:
        model = ImportRun
        fields = [
            "id",
            "kind",
            "status",
            "source_name",
            "preset",
            "options",
            "total_rows",
            "created_count",
            "updated_count",
            "unchanged_count",
            "matched_count",
            "unmatched_count",
            "error_count",
            "issue_count",
            "error_message",
            "started_at",
            "finished_at",
        ]

    def get_issue_count(self, run: ImportRun) -> int:
        counts = (run.options or {}).get("issues") or {}
        return int(sum(counts.values())) if isinstance(counts, dict) else 0
