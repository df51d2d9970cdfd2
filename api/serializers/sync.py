"""Serializers of the native sync API: the turf packet and the batch push with receipts.

The packet is built as plain dicts by `canvass.sync.packets` (hot path: an offline app fetches
it often) and sent as pre-rendered JSON; the `TurfPacket*Output` classes below document its
shape in the OpenAPI schema and are kept in step by the whole-body tests.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from api.serializers.fields import IdField
from canvass.models import CorrectionKind, SignupKind, SyncItemKind


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


# The batch items, one schema per kind, for the OpenAPI document only: at run time the merge
# service checks every item itself and answers per item (`ContactBatchItemsField`). A test keeps
# these field lists equal to the ones the merge accepts (`canvass.sync.merge._FIELDS`).


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "description": "A person's server id (from the packet)."},
            {
                "type": "string",
                "format": "uuid",
                "description": "The client id of a new_person item (this batch or earlier).",
            },
        ]
    }
)
class PersonRefField(serializers.Field):
    pass


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, max_length=max_length, **kwargs)


class SyncItemBase(serializers.Serializer):
    id = serializers.UUIDField(help_text="Client-generated; a retry sends the same id.")
    device_time = serializers.DateTimeField(
        help_text=(
            "When it happened on the device, ISO 8601 with a UTC offset (naive times are "
            "rejected; more than 10 minutes ahead of the server: clamped and flagged)."
        )
    )


class SyncGpsInput(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    accuracy_m = serializers.FloatField(min_value=0, required=False)


class SyncContactItem(SyncItemBase):
    kind = serializers.ChoiceField(choices=[SyncItemKind.CONTACT.value])
    household = IdField()
    person = PersonRefField(required=False, help_text="Who answered, if anyone.")
    turf = IdField(
        required=False, help_text="The turf of the packet (else found from the assignments)."
    )
    result_code = serializers.CharField(help_text="One of the packet's result codes.")
    answers = serializers.DictField(
        required=False, help_text="Question key -> answer, following the packet's script."
    )
    supporter_id = serializers.IntegerField(
        min_value=1, max_value=5, required=False, help_text="1 strong support ... 5 strong oppose."
    )
    notes = _text(5000)
    gps = SyncGpsInput(required=False)


class SyncSignupItem(SyncItemBase):
    kind = serializers.ChoiceField(choices=[SyncItemKind.SIGNUP.value])
    signup_kind = serializers.ChoiceField(choices=SignupKind.choices)
    person = PersonRefField(required=False)
    household = IdField(required=False)
    first_name = _text(100)
    last_name = _text(100)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = _text(32, help_text="At least 7 digits.")
    availability = serializers.DictField(required=False)
    interests = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    workplace = _text(200)
    employer = _text(200)
    union = _text(200)
    industry = _text(120)
    notes = _text(5000)


class SyncNewPersonItem(SyncItemBase):
    kind = serializers.ChoiceField(choices=[SyncItemKind.NEW_PERSON.value])
    household = IdField()
    first_name = _text(100, help_text="A first or a last name.")
    last_name = _text(100)
    phone = _text(32, help_text="At least 7 digits.")
    email = serializers.EmailField(required=False, allow_blank=True)
    language = _text(32)
    year_of_birth = serializers.IntegerField(min_value=1900, max_value=2100, required=False)


class SyncCorrectionItem(SyncItemBase):
    kind = serializers.ChoiceField(choices=[SyncItemKind.CORRECTION.value])
    person = PersonRefField()
    field = serializers.ChoiceField(choices=CorrectionKind.choices)
    value = serializers.JSONField(
        required=False,
        help_text=(
            "phone / email / language: a string; name: {first_name, last_name}; moved and "
            "deceased carry no value."
        ),
    )


SYNC_ITEM_SCHEMAS: dict[str, type[serializers.Serializer]] = {
    SyncItemKind.CONTACT.value: SyncContactItem,
    SyncItemKind.SIGNUP.value: SyncSignupItem,
    SyncItemKind.NEW_PERSON.value: SyncNewPersonItem,
    SyncItemKind.CORRECTION.value: SyncCorrectionItem,
}


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="SyncItem",
        serializers=SYNC_ITEM_SCHEMAS,
        resource_type_field_name="kind",
        many=True,
    )
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
        items: list[dict[str, Any]] = data
        return items

    def to_representation(self, value: Any) -> Any:
        return value


class ContactBatchInput(serializers.Serializer):
    device_id = serializers.CharField(max_length=100)
    campaign_id = IdField(
        required=False,
        help_text=(
            "The campaign of the batch. Optional when it follows from the items' turfs or "
            "from your only membership."
        ),
    )
    items = ContactBatchItemsField(
        help_text=(
            "At most SYNC_MAX_ITEMS (1,000) items, each one of the kinds below (`kind`). "
            "Each item is checked on its own: a bad item gets a `rejected` receipt, the "
            "others are stored."
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
