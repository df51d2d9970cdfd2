"""Serializers of the native sync API: the turf packet and the batch push with receipts.

The packet is built as plain dicts by `canvass.sync.packets` (hot path: an offline app fetches
it often) and sent as pre-rendered JSON; the `TurfPacket*Output` classes below document its
shape in the OpenAPI schema and are kept in step by the whole-body tests.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class TurfPacketPersonOutput(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    last_name = serializers.CharField()
    suffix = serializers.CharField()
    year_of_birth = serializers.IntegerField(allow_null=True)
    language = serializers.CharField()
    registration_status = serializers.CharField()
    is_deceased = serializers.BooleanField()
    has_moved = serializers.BooleanField()
    source = serializers.CharField()
    phone = serializers.CharField(
        required=False, help_text="Only when the campaign shows phones to canvassers."
    )
    party = serializers.CharField(
        required=False, help_text="Only when the campaign shows party to canvassers."
    )


class TurfPacketLastResultOutput(serializers.Serializer):
    result_code = serializers.CharField()
    effective_time = serializers.DateTimeField()
    attempts = serializers.IntegerField()
    ever_contacted = serializers.BooleanField()
    is_final = serializers.BooleanField()


class TurfPacketHouseholdOutput(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField(help_text="0-based place in the walk order.")
    house_number = serializers.CharField()
    street = serializers.CharField()
    unit = serializers.CharField()
    city = serializers.CharField()
    zip_code = serializers.CharField()
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    building_key = serializers.CharField()
    is_final = serializers.BooleanField(
        help_text="Never revisit: final in this campaign, or nobody left (moved/deceased)."
    )
    final_reason = serializers.CharField()
    last_result = TurfPacketLastResultOutput(allow_null=True)
    people = TurfPacketPersonOutput(many=True)


class TurfPacketOptionOutput(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class TurfPacketShowIfOutput(serializers.Serializer):
    question = serializers.CharField(help_text="Key of the earlier question.")
    options = serializers.ListField(child=serializers.CharField())


class TurfPacketQuestionOutput(serializers.Serializer):
    key = serializers.CharField()
    prompt = serializers.CharField()
    kind = serializers.CharField()
    position = serializers.IntegerField()
    options = TurfPacketOptionOutput(many=True)
    show_if = TurfPacketShowIfOutput(allow_null=True)


class TurfPacketScriptOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    introduction = serializers.CharField()
    questions = TurfPacketQuestionOutput(many=True)


class TurfPacketResultCodeOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    is_contact = serializers.BooleanField()
    is_final = serializers.BooleanField()
    position = serializers.IntegerField()


class TurfPacketTurfOutput(serializers.Serializer):
    id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    name = serializers.CharField()
    list_number = serializers.CharField(allow_null=True)
    version = serializers.IntegerField()
    status = serializers.CharField()
    door_count = serializers.IntegerField()
    polygon = serializers.JSONField(allow_null=True, help_text="GeoJSON Polygon, lon/lat.")


class TurfPacketOutput(serializers.Serializer):
    turf = TurfPacketTurfOutput()
    households = TurfPacketHouseholdOutput(many=True)
    script = TurfPacketScriptOutput(allow_null=True)
    result_codes = TurfPacketResultCodeOutput(many=True)
    show_phone = serializers.BooleanField()
    show_party = serializers.BooleanField()


@extend_schema_field(
    {"type": "array", "items": {"type": "object", "additionalProperties": {}}, "maxItems": 1000}
)
class ContactBatchItemsField(serializers.Field):
    """A list of JSON objects, checked in one pass and passed on as is.

    Hot path: `ListField(child=DictField())` copied every item field by field (a third of the
    view's time for a 100-item batch); the merge service validates each item's fields itself
    and answers per item, so the API layer only checks the envelope."""

    default_error_messages = {
        "not_a_list": 'Expected a list of items but got type "{input_type}".',
        "not_an_object": 'Expected a dictionary of items but got type "{input_type}".',
    }

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        errors = {
            str(index): [
                self.error_messages["not_an_object"].format(input_type=type(item).__name__)
            ]
            for index, item in enumerate(data)
            if not isinstance(item, dict)
        }
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ContactBatchInput(serializers.Serializer):
    device_id = serializers.CharField(max_length=100)
    campaign_id = serializers.IntegerField(
        required=False,
        help_text=(
            "The campaign of the batch. Optional when it follows from the items' turfs or "
            "from your only membership."
        ),
    )
    items = ContactBatchItemsField(
        help_text=(
            "At most SYNC_MAX_ITEMS (1,000) items. Each has `kind` (contact | signup | "
            "new_person | correction), a client `id` (UUID) and `device_time` (ISO 8601 with "
            "a UTC offset); see canvass.sync.merge for each kind's fields."
        ),
    )


class ContactBatchReceiptOutput(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.ChoiceField(choices=["created", "duplicate", "rejected"])
    reason = serializers.CharField(
        allow_null=True,
        help_text=(
            "When rejected: invalid, id_conflict, unknown_household, unknown_person, "
            "unknown_turf, unknown_result_code, unknown_question, invalid_answer, "
            "supporter_id_out_of_range, naive_timestamp, not_assigned."
        ),
    )
    message = serializers.CharField()
    object_id = serializers.CharField(allow_null=True)
    flags = serializers.ListField(
        child=serializers.CharField(), help_text="clock_clamped, merged, superseded."
    )
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For `invalid` and friends: the field(s) at fault.",
    )


class ContactBatchSummaryOutput(serializers.Serializer):
    created = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    rejected = serializers.IntegerField()


class ContactBatchOutput(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    receipts = ContactBatchReceiptOutput(many=True)
    summary = ContactBatchSummaryOutput()
