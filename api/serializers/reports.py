from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.serializers.fields import IdField


class ContactReportQuery(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="ISO 8601 with a UTC offset.")
    until = serializers.DateTimeField(required=False, help_text="ISO 8601 with a UTC offset.")
    turf = IdField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for key in ("since", "until"):
            raw = self.initial_data.get(key)
            if raw and not _has_offset(raw):
                raise serializers.ValidationError(
                    {
                        key: [
                            "Give a UTC offset (e.g. 2026-11-01T00:00:00Z): naive times are ambiguous."
                        ]
                    }
                )
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": ["until must be after since."]})
        return attrs


def _has_offset(raw: str) -> bool:
    text = raw.strip()
    if text.endswith(("Z", "z")):
        return True
    tail = text[-6:]
    return len(tail) == 6 and tail[0] in "+-" and tail[3] == ":"


class ResultCountOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    is_contact = serializers.BooleanField()
    count = serializers.IntegerField()


class TurfCompletionOutput(serializers.Serializer):
    turf_id = serializers.IntegerField()
    list_number = serializers.CharField(allow_null=True)
    doors = serializers.IntegerField()
    doors_attempted = serializers.IntegerField()
    doors_final = serializers.IntegerField()
    completion = serializers.FloatField(allow_null=True)


class GoalProgressOutput(serializers.Serializer):
    metric = serializers.CharField()
    target = serializers.IntegerField()
    achieved = serializers.IntegerField()
    progress = serializers.FloatField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)


class CanvasserFiguresOutput(serializers.Serializer):
    canvasser = serializers.CharField()
    attempts = serializers.IntegerField()
    doors_knocked = serializers.IntegerField()
    contacts = serializers.IntegerField()
    contact_rate = serializers.FloatField(allow_null=True)
    canvassing_hours = serializers.FloatField()
    doors_per_hour = serializers.FloatField(allow_null=True)


class ContactReportOutput(serializers.Serializer):
    attempts = serializers.IntegerField()
    doors_knocked = serializers.IntegerField()
    contacts = serializers.IntegerField()
    contact_rate = serializers.FloatField(allow_null=True)
    canvassing_hours = serializers.FloatField()
    doors_per_hour = serializers.FloatField(allow_null=True)
    canvassers_active = serializers.IntegerField()
    signups = serializers.IntegerField()
    voter_registrations = serializers.IntegerField()
    results = ResultCountOutput(many=True)
    support = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Keys "1".."5": people per current supporter ID.',
    )
    turfs = TurfCompletionOutput(many=True)
    goals = GoalProgressOutput(many=True)
    window = serializers.DictField()
    canvassers = CanvasserFiguresOutput(
        many=True, required=False, help_text="Staff only (directors, organizers)."
    )
