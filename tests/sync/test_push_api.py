"""POST /api/sync/contacts/: the batch push with per-item receipts, and bad input."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from canvass.models import (
    ContactAttempt,
    HouseholdResult,
    Person,
    PersonCorrection,
    SupporterScore,
    SyncLedgerEntry,
    VolunteerSignup,
)
from tests.factories import household_make
from tests.sync.conftest import assign, doors_of, people_at, turf_make
from turf.models import Household

pytestmark = pytest.mark.django_db

URL = "/api/sync/contacts/"


def push(client, items, **extra):
    return client.post(URL, {"device_id": "phone-1", "items": items, **extra}, format="json")


def test_it_stores_valid_items_and_rejects_the_others_with_reasons(
    assigned_turf, canvasser, client_for, contact_item, campaign
):
    doors = doors_of(assigned_turf)
    good = contact_item(doors[0], result_code="canvassed")
    unknown_code = contact_item(doors[1], result_code="abducted")
    good2 = contact_item(doors[2])

    response = push(client_for(canvasser), [good, unknown_code, good2])

    assert response.status_code == 200
    body = response.json()
    assert body["campaign_id"] == campaign.pk
    assert body["summary"] == {"created": 2, "duplicate": 0, "rejected": 1}
    assert [r["status"] for r in body["receipts"]] == ["created", "rejected", "created"]
    assert body["receipts"][1] == {
        "id": unknown_code["id"],
        "status": "rejected",
        "reason": "unknown_result_code",
        "message": "Result code 'abducted' is not one of this campaign's codes.",
        "object_id": None,
        "flags": [],
        "fields": {"result_code": ["Unknown result code."]},
    }
    assert {str(pk) for pk in ContactAttempt.objects.values_list("pk", flat=True)} == {
        good["id"],
        good2["id"],
    }
    assert not SyncLedgerEntry.objects.filter(client_id=unknown_code["id"]).exists()


def test_it_accepts_a_knock_recorded_before_the_turf_was_reassigned(
    turf, canvasser, client_for, contact_item
):
    now = timezone.now()
    assign(turf, canvasser, start=now - timedelta(days=2), ended=now - timedelta(hours=1))
    door = doors_of(turf)[0]
    before = contact_item(door, device_time=(now - timedelta(hours=3)).isoformat())
    after = contact_item(door, device_time=(now - timedelta(minutes=10)).isoformat())

    body = push(client_for(canvasser), [before, after], campaign_id=turf.campaign_id).json()

    assert [(r["status"], r["reason"]) for r in body["receipts"]] == [
        ("created", None),
        ("rejected", "not_assigned"),
    ]
    assert ContactAttempt.objects.get().turf_id == turf.pk


def test_it_clamps_device_times_from_the_future_and_flags_them(
    assigned_turf, canvasser, client_for, contact_item
):
    door = doors_of(assigned_turf)[0]
    item = contact_item(door, device_time=(timezone.now() + timedelta(hours=5)).isoformat())

    [receipt] = push(client_for(canvasser), [item]).json()["receipts"]

    assert (receipt["status"], receipt["flags"]) == ("created", ["clock_clamped"])
    attempt = ContactAttempt.objects.get()
    assert attempt.clock_clamped is True
    assert attempt.effective_time == attempt.received_at
    assert attempt.device_time > attempt.received_at


def test_it_does_not_clamp_a_device_a_few_minutes_ahead(
    assigned_turf, canvasser, client_for, contact_item
):
    door = doors_of(assigned_turf)[0]
    item = contact_item(door, device_time=(timezone.now() + timedelta(minutes=3)).isoformat())

    [receipt] = push(client_for(canvasser), [item]).json()["receipts"]

    assert receipt["flags"] == []
    assert ContactAttempt.objects.get().clock_clamped is False


def test_it_answers_413_beyond_the_item_limit_and_stores_nothing(
    assigned_turf, canvasser, client_for, contact_item
):
    door = doors_of(assigned_turf)[0]
    with override_settings(SYNC_MAX_ITEMS=3):
        response = push(client_for(canvasser), [contact_item(door) for _ in range(4)])

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_many_items"
    assert "at most 3 items" in response.json()["error"]["message"]
    assert ContactAttempt.objects.count() == 0


def test_it_answers_413_for_a_body_over_the_size_limit(canvasser, client_for):
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        response = push(client_for(canvasser), [{"notes": "x" * 2000}])

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_it_rejects_a_household_of_another_campaigns_organization_as_unknown(
    assigned_turf, canvasser, client_for, contact_item, outsider_org
):
    foreign = household_make(outsider_org)

    [receipt] = push(
        client_for(canvasser), [contact_item(foreign)], campaign_id=assigned_turf.campaign_id
    ).json()["receipts"]

    assert (receipt["status"], receipt["reason"]) == ("rejected", "unknown_household")
    assert str(foreign.pk) in receipt["message"]
    assert ContactAttempt.objects.count() == 0


def test_it_rejects_a_door_outside_the_canvassers_turfs_as_unknown(
    assigned_turf, canvasser, client_for, contact_item, campaign
):
    elsewhere = doors_of(turf_make(campaign, doors=1))[0]

    [receipt] = push(client_for(canvasser), [contact_item(elsewhere)]).json()["receipts"]

    assert receipt["reason"] == "unknown_household"


def test_it_answers_404_for_a_campaign_the_caller_is_not_in(
    canvasser, client_for, outsider_campaign
):
    response = push(client_for(canvasser), [], campaign_id=outsider_campaign.pk)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_it_refuses_pushes_from_a_viewer(viewer, client_for, campaign):
    response = push(client_for(viewer), [], campaign_id=campaign.pk)

    assert response.status_code == 403


def test_it_rejects_result_codes_of_another_campaign(
    assigned_turf, canvasser, client_for, contact_item, sibling_campaign
):
    from canvass.models import ResultCode

    ResultCode.objects.create(
        campaign=sibling_campaign, code="sibling_only", label="x", is_contact=False, is_final=False
    )

    [receipt] = push(
        client_for(canvasser),
        [contact_item(doors_of(assigned_turf)[0], result_code="sibling_only")],
    ).json()["receipts"]

    assert receipt["reason"] == "unknown_result_code"


@pytest.mark.parametrize(
    ("patch", "reason", "field"),
    [
        ({"id": 12345}, "invalid", "id"),
        ({"id": "not-a-uuid"}, "invalid", "id"),
        ({"id": "6f1f3d59-1f0a-4b0c-9d55-0a7d4b3a0c1"}, "invalid", "id"),
        ({"kind": "teleport"}, "invalid", "kind"),
        ({"kind": {"contact": 1}}, "invalid", "kind"),  # unhashable: was a 500
        ({"kind": ["contact"]}, "invalid", "kind"),
        ({"colour": "blue"}, "invalid", "colour"),
        ({"household": "12"}, "invalid", "household"),
        ({"device_time": "2024-10-05T14:00:00"}, "naive_timestamp", "device_time"),
        ({"device_time": "yesterday"}, "invalid", "device_time"),
        ({"answers": {"favourite_colour": "blue"}}, "unknown_question", "answers"),
        ({"answers": {"supporter_id": "7"}}, "supporter_id_out_of_range", "supporter_id"),
        ({"supporter_id": 0}, "supporter_id_out_of_range", "supporter_id"),
        ({"supporter_id": 6}, "supporter_id_out_of_range", "supporter_id"),
        ({"supporter_id": "strong"}, "supporter_id_out_of_range", "supporter_id"),
        ({"gps": {"lon": 500, "lat": 42.3}}, "invalid", "gps"),
        ({"gps": "here"}, "invalid", "gps"),
        ({"notes": ["a", "list"]}, "invalid", "notes"),
        ({"person": 999999999}, "unknown_person", "person"),
    ],
)
def test_it_rejects_a_bad_item_and_stores_nothing_for_it(
    assigned_turf, canvasser, client_for, contact_item, patch, reason, field
):
    door = doors_of(assigned_turf)[0]
    good = contact_item(door)
    bad = {**contact_item(door, person=people_at(door)[0].pk), **patch}

    body = push(client_for(canvasser), [bad, good]).json()

    receipt = body["receipts"][0]
    assert (receipt["status"], receipt["reason"]) == ("rejected", reason)
    assert field in receipt.get("fields", {})
    assert body["receipts"][1]["status"] == "created"
    assert ContactAttempt.objects.count() == 1
    assert SyncLedgerEntry.objects.count() == 1
    assert SupporterScore.objects.count() == 0


def test_it_rejects_an_invalid_answer_to_a_choice_question(
    assigned_turf, canvasser, client_for, contact_item, campaign
):
    from canvass.services import script_create

    script_create(
        campaign=campaign,
        name="v2",
        questions=[
            {
                "key": "issue",
                "prompt": "Top issue?",
                "kind": "single_choice",
                "options": [("rent", "Rent")],
            }
        ],
    )
    door = doors_of(assigned_turf)[0]

    body = push(
        client_for(canvasser),
        [
            contact_item(door, answers={"issue": "taxes"}),
            contact_item(door, answers={"issue": "rent"}),
        ],
    ).json()

    assert [r["reason"] for r in body["receipts"]] == ["invalid_answer", None]
    assert ContactAttempt.objects.get().answers == {"issue": "rent"}


def branching_script(campaign):
    from canvass.services import script_create

    script_create(
        campaign=campaign,
        name="branching",
        questions=[
            {
                "key": "volunteer",
                "prompt": "Volunteer?",
                "kind": "yes_no",
                "options": [("yes", "Yes"), ("no", "No")],
            },
            {
                "key": "issue",
                "prompt": "Top issue?",
                "kind": "single_choice",
                "options": [("rent", "Rent"), ("wages", "Wages")],
                "show_if": {"question": "supporter_id", "options": ["1", "2"]},
            },
            {
                "key": "shifts",
                "prompt": "Which shifts?",
                "kind": "multi_choice",
                "options": [("am", "Mornings"), ("pm", "Evenings")],
                "show_if": {"question": "volunteer", "options": ["yes"]},
            },
            {
                "key": "why_rent",
                "prompt": "Why rent?",
                "kind": "text",
                "show_if": {"question": "issue", "options": ["rent"]},
            },
        ],
    )


@pytest.mark.parametrize(
    ("extra", "outcome"),
    [
        ({"answers": {"supporter_id": 1, "issue": "rent"}}, None),
        ({"supporter_id": 2, "answers": {"issue": "wages"}}, None),
        ({"answers": {"volunteer": True, "shifts": ["am"]}}, None),
        ({"answers": {"volunteer": "yes", "shifts": []}}, None),
        ({"supporter_id": 1, "answers": {"issue": "rent", "why_rent": "Too high"}}, None),
        (
            {"answers": {"supporter_id": 4, "issue": "rent"}},
            ("issue", "only asked when 'supporter_id' is answered with one of 1, 2."),
        ),
        (
            {"answers": {"issue": "rent"}},
            ("issue", "only asked when 'supporter_id' is answered with one of 1, 2."),
        ),
        (
            {"answers": {"volunteer": False, "shifts": ["pm"]}},
            ("shifts", "only asked when 'volunteer' is answered with one of yes."),
        ),
        (
            {"supporter_id": 1, "answers": {"issue": "wages", "why_rent": "?"}},
            ("why_rent", "only asked when 'issue' is answered with one of rent."),
        ),
    ],
)
def test_it_rejects_an_answer_to_a_question_its_branching_hides(
    assigned_turf, canvasser, client_for, contact_item, campaign, extra, outcome
):
    branching_script(campaign)
    door = doors_of(assigned_turf)[0]
    item = contact_item(door, person=people_at(door)[0].pk, **extra)

    body = push(client_for(canvasser), [item]).json()

    receipt = body["receipts"][0]
    if outcome is None:
        assert receipt["status"] == "created", receipt
        assert ContactAttempt.objects.count() == 1
    else:
        assert (receipt["status"], receipt["reason"]) == ("rejected", "invalid_answer")
        key, message = outcome
        assert receipt["fields"] == {"answers": [f"{key}: {message}"]}
        assert receipt["message"] == f"Answer to {key!r}: {message}"
        assert (ContactAttempt.objects.count(), SyncLedgerEntry.objects.count()) == (0, 0)
        assert SupporterScore.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"items": []}, "invalid"),
        ({"device_id": "d", "items": "nope"}, "invalid"),
        ({"device_id": "d", "items": [1, 2]}, "invalid"),
        ([1, 2, 3], "invalid"),
    ],
)
def test_it_answers_400_to_a_malformed_batch(canvasser, client_for, body, code):
    response = client_for(canvasser).post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert ContactAttempt.objects.count() == 0


def test_it_answers_400_to_nul_bytes_and_deep_nesting(canvasser, client_for):
    client = client_for(canvasser)
    nul = client.post(
        URL,
        data=b'{"device_id": "d\\u0000", "items": []}',
        content_type="application/json",
    )
    deep = client.post(
        URL,
        data=('{"device_id": "d", "items": [' + "[" * 100 + "]" * 100 + "]}").encode(),
        content_type="application/json",
    )

    assert (nul.status_code, nul.json()["error"]["code"]) == (400, "nul_byte")
    assert (deep.status_code, deep.json()["error"]["code"]) == (400, "too_deep")


def test_it_needs_a_campaign_id_when_it_cannot_derive_one(canvasser, client_for, sibling_campaign):
    from canvass.services import membership_grant

    membership_grant(campaign=sibling_campaign, user=canvasser, role="canvasser")

    response = push(client_for(canvasser), [])

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "campaign_required"


def test_it_deduplicates_signups_by_email_and_merges_interests(
    assigned_turf, canvasser, client_for, campaign
):
    now = timezone.now().isoformat()
    first = {
        "kind": "signup",
        "id": str(uuid.uuid4()),
        "signup_kind": "volunteer",
        "email": "Ana@Example.org",
        "first_name": "Ana",
        "interests": ["phonebank"],
        "employer": "",
        "device_time": now,
    }
    second = {
        "kind": "signup",
        "id": str(uuid.uuid4()),
        "signup_kind": "member",
        "email": "ana@example.org",
        "interests": ["canvass", "phonebank"],
        "employer": "MBTA",
        "union": "ATU Local 589",
        "device_time": now,
    }

    body = push(client_for(canvasser), [first, second], campaign_id=campaign.pk).json()

    assert [r["flags"] for r in body["receipts"]] == [[], ["merged"]]
    signup = VolunteerSignup.objects.get()
    assert body["receipts"][0]["object_id"] == body["receipts"][1]["object_id"] == str(signup.pk)
    assert signup.interests == ["phonebank", "canvass"]
    assert (signup.kind, signup.employer, signup.union, signup.first_name) == (
        "member",
        "MBTA",
        "ATU Local 589",
        "Ana",
    )


def test_it_applies_a_moved_correction_and_finalises_an_empty_door(
    assigned_turf, canvasser, client_for, sibling_campaign
):
    door = doors_of(assigned_turf)[0]
    [person] = people_at(door)
    item = {
        "kind": "correction",
        "id": str(uuid.uuid4()),
        "person": person.pk,
        "field": "moved",
        "device_time": timezone.now().isoformat(),
    }

    [receipt] = push(client_for(canvasser), [item]).json()["receipts"]

    assert receipt["status"] == "created"
    person.refresh_from_db()
    assert person.has_moved is True
    door.refresh_from_db()
    assert (door.is_final, door.final_reason) == (True, "moved")
    correction = PersonCorrection.objects.get()
    assert (correction.kind, correction.old_value, correction.new_value) == ("moved", False, True)


def test_it_keeps_the_door_open_while_someone_is_left(campaign, canvasser, client_for):
    turf = turf_make(campaign, doors=1, people_per_door=2)
    assign(turf, canvasser)
    door = doors_of(turf)[0]
    first, _second = people_at(door)
    item = {
        "kind": "correction",
        "id": str(uuid.uuid4()),
        "person": first.pk,
        "field": "deceased",
        "device_time": timezone.now().isoformat(),
    }

    push(client_for(canvasser), [item])

    assert Person.objects.get(pk=first.pk).is_deceased is True
    assert Household.objects.get(pk=door.pk).is_final is False


def test_it_keeps_an_older_phone_correction_in_the_audit_trail_without_applying_it(
    assigned_turf, canvasser, client_for
):
    person = people_at(doors_of(assigned_turf)[0])[0]
    now = timezone.now()

    def correction(phone, minutes_ago):
        return {
            "kind": "correction",
            "id": str(uuid.uuid4()),
            "person": person.pk,
            "field": "phone",
            "value": phone,
            "device_time": (now - timedelta(minutes=minutes_ago)).isoformat(),
        }

    client = client_for(canvasser)
    push(client, [correction("617-555-0100", 5)])
    [late] = push(client, [correction("617-555-0199", 30)]).json()["receipts"]

    assert late["flags"] == ["superseded"]
    assert Person.objects.get(pk=person.pk).phone == "617-555-0100"
    assert PersonCorrection.objects.count() == 2


def test_it_counts_every_knock_at_a_door_once(assigned_turf, canvasser, client_for, contact_item):
    door = doors_of(assigned_turf)[0]
    items = [contact_item(door, result_code="not_home") for _ in range(3)]
    client = client_for(canvasser)

    push(client, items)
    retry = push(client, items).json()

    assert retry["summary"] == {"created": 0, "duplicate": 3, "rejected": 0}
    result = HouseholdResult.objects.get()
    assert (result.attempts, result.ever_contacted, result.is_final) == (3, False, False)


@pytest.mark.parametrize("size", [1, 5])
def test_it_merges_a_batch_in_a_constant_number_of_queries(
    turf, canvasser, client_for, contact_item, django_assert_num_queries, size
):
    # Per batch, whatever its size: token, membership, result codes, assignment windows and
    # people (one statement on PostgreSQL, two elsewhere), then the writes (ledger, attempts,
    # scores, door results): one statement on PostgreSQL, four elsewhere; plus the
    # SAVEPOINT/RELEASE pair the test's transaction makes of BEGIN/COMMIT. No ledger look-up
    # up front: a batch of new ids never pays for the retry path.
    assign(turf, canvasser)
    doors = doors_of(turf)
    items = [
        contact_item(door, person=people_at(door)[0].pk, supporter_id=2) for door in doors[:size]
    ]
    client = client_for(canvasser)

    with django_assert_num_queries(7 if connection.vendor == "postgresql" else 11):
        body = push(client, items, campaign_id=turf.campaign_id).json()

    assert body["summary"] == {"created": size, "duplicate": 0, "rejected": 0}
    assert ContactAttempt.objects.count() == size
    assert HouseholdResult.objects.count() == size


def test_it_checks_each_person_against_the_door_they_are_named_at(
    assigned_turf, canvasser, client_for, contact_item
):
    # The people are read with the assignment windows (one statement on PostgreSQL): a
    # person of another door, of another organization or without a door is refused, the
    # others are stored, whatever their order in the batch.
    from canvass.services import organization_create
    from tests.factories import person_make

    first, second = doors_of(assigned_turf)[:2]
    elsewhere = person_make(organization_create(name="Other", slug="other-org"))
    homeless = person_make(assigned_turf.campaign.organization)
    items = [
        contact_item(first, person=people_at(second)[0].pk),
        contact_item(first, person=people_at(first)[0].pk, supporter_id=1),
        contact_item(second, person=elsewhere.pk),
        contact_item(second, person=homeless.pk),
        contact_item(second, person=people_at(second)[0].pk),
    ]

    body = push(client_for(canvasser), items).json()

    assert [(r["status"], r["reason"]) for r in body["receipts"]] == [
        ("rejected", "unknown_person"),
        ("created", None),
        ("rejected", "unknown_person"),
        ("rejected", "unknown_person"),
        ("created", None),
    ]
    assert sorted(ContactAttempt.objects.values_list("person_id", flat=True)) == sorted(
        [people_at(first)[0].pk, people_at(second)[0].pk]
    )
    assert SupporterScore.objects.get().person_id == people_at(first)[0].pk


def test_the_openapi_item_schemas_list_exactly_the_fields_each_kind_accepts():
    """The per-kind schemas are documentation (the merge checks items itself): they must name
    the fields the merge accepts, no more, no fewer, and mark the same kinds."""
    from api.serializers.sync import SYNC_ITEM_SCHEMAS
    from canvass.sync.merge import _FIELDS

    assert set(SYNC_ITEM_SCHEMAS) == {str(kind) for kind in _FIELDS}
    for kind, schema in SYNC_ITEM_SCHEMAS.items():
        fields = schema().fields
        assert set(fields) == _FIELDS[kind], kind
        assert list(fields["kind"].choices) == [kind]


def test_the_push_schema_documents_one_item_schema_per_kind(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    items = schema["components"]["schemas"]["ContactBatchInputRequest"]["properties"]["items"]
    item = schema["components"]["schemas"][items["items"]["$ref"].rsplit("/", 1)[1]]
    assert item["discriminator"]["propertyName"] == "kind"
    assert set(item["discriminator"]["mapping"]) == {
        "contact",
        "signup",
        "new_person",
        "correction",
    }
    contact = schema["components"]["schemas"]["SyncContactItemRequest"]
    assert {"id", "device_time", "kind", "household", "result_code"} <= set(contact["required"])
