"""WatermelonDB push: all-or-nothing, conflicts, idempotency, bad input."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from canvass.models import (
    ContactAttempt,
    Person,
    PersonCorrection,
    ResultCode,
    SyncLedgerEntry,
    VolunteerSignup,
)
from tests.sync.watermelon.conftest import ids

pytestmark = pytest.mark.django_db


def now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def contact(world, campaign, **extra):
    code = ResultCode.objects.get(campaign=campaign, code="canvassed")
    record = {
        "id": str(uuid.uuid4()),
        "household_id": str(world.doors_a[0].pk),
        "person_id": str(world.people_a[0].pk),
        "turf_id": str(world.turf_a.pk),
        "result_code_id": str(code.pk),
        "supporter_id": 2,
        "answers": '{"supporter_id": 2}',
        "notes": "",
        "device_time": now_ms() - 60_000,
        "gps_lon": -71.11,
        "gps_lat": 42.37,
        "gps_accuracy_m": 8,
        "_status": "created",
        "_changed": "",
    }
    record.update(extra)
    return record


def new_person(world, **extra):
    record = {
        "id": str(uuid.uuid4()),
        "household_id": str(world.doors_a[1].pk),
        "first_name": "Ana",
        "last_name": "Silva",
        "phone": "617-555-0199",
        "email": "",
        "language": "pt",
        "year_of_birth": 1990,
        "_status": "created",
    }
    record.update(extra)
    return record


def signup(world, **extra):
    record = {
        "id": str(uuid.uuid4()),
        "household_id": str(world.doors_a[0].pk),
        "person_id": str(world.people_a[0].pk),
        "kind": "volunteer",
        "interests": '["phone banking"]',
        "email": "vol@example.org",
        "availability": '{"weekends": true}',
        "device_time": now_ms() - 1000,
    }
    record.update(extra)
    return record


def test_it_stores_contacts_new_people_and_signups_in_one_push(
    world, campaign, canvasser, pull, push
):
    last = pull(canvasser).json()["timestamp"]
    person = new_person(world)
    knock = contact(world, campaign, person_id=person["id"], household_id=person["household_id"])
    response = push(
        canvasser,
        {
            "contacts": {"created": [knock], "updated": [], "deleted": []},
            "people": {"created": [person], "updated": [], "deleted": []},
            "volunteer_signups": {"created": [signup(world)], "updated": [], "deleted": []},
        },
        last,
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "ok": True,
        "applied": {"contacts": 1, "people": 1, "volunteer_signups": 1, "unchanged": 0},
    }
    stored = ContactAttempt.objects.get(pk=knock["id"])
    created = Person.objects.get(last_name="Silva")
    assert stored.person_id == created.pk and stored.supporter_id == 2
    assert stored.device_id == "device-a1" and stored.gps_lon == -71.11
    assert created.source == "door" and created.language == "pt"
    assert VolunteerSignup.objects.filter(campaign=campaign).count() == 1


def test_it_sends_this_devices_records_back_as_updated_with_their_ids(
    world, campaign, canvasser, pull, push
):
    last = pull(canvasser).json()["timestamp"]
    person = new_person(world)
    knock = contact(world, campaign, person_id=person["id"], household_id=person["household_id"])
    sign = signup(world)
    push(
        canvasser,
        {
            "contacts": {"created": [knock]},
            "people": {"created": [person]},
            "volunteer_signups": {"created": [sign]},
        },
        last,
    )
    body = pull(canvasser, last).json()
    assert ids(body, "contacts", "updated") == [knock["id"]]
    # (the fixture's residents, stamped within the look-back margin, are re-sent too)
    assert person["id"] in ids(body, "people", "updated")
    assert ids(body, "volunteer_signups", "updated") == [sign["id"]]
    for table in ("contacts", "people", "volunteer_signups"):
        assert body["changes"][table]["created"] == []
    assert body["changes"]["contacts"]["updated"][0]["person_id"] == person["id"]
    # Another device of the same canvasser gets them as created.
    other = pull(canvasser, last, device="device-a2").json()
    assert ids(other, "contacts", "created") == [knock["id"]]


def test_it_writes_nothing_when_one_record_is_bad(world, campaign, canvasser, pull, push):
    last = pull(canvasser).json()["timestamp"]
    good = contact(world, campaign)
    bad = contact(world, campaign, household_id=str(world.doors_b[0].pk))  # not assigned
    response = push(
        canvasser,
        {"contacts": {"created": [good, bad]}, "people": {"created": [new_person(world)]}},
        last,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_household"
    assert "contacts.created[1]" in str(response.json()["error"]["fields"])
    assert ContactAttempt.objects.count() == 0
    assert not Person.objects.filter(last_name="Silva").exists()
    assert SyncLedgerEntry.objects.count() == 0


def test_it_refuses_an_answer_to_a_question_its_branching_hides(
    world, campaign, canvasser, pull, push
):
    from tests.sync.test_push_api import branching_script

    branching_script(campaign)
    last = pull(canvasser).json()["timestamp"]
    hidden = contact(world, campaign, answers='{"supporter_id": 4, "issue": "rent"}')
    hidden["supporter_id"] = 4

    response = push(canvasser, {"contacts": {"created": [hidden]}}, last)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_answer"
    assert ContactAttempt.objects.count() == 0

    shown = contact(world, campaign, answers='{"supporter_id": 2, "issue": "rent"}')
    response = push(canvasser, {"contacts": {"created": [shown]}}, last)
    assert response.status_code == 200, response.json()
    assert ContactAttempt.objects.get().answers == {"supporter_id": 2, "issue": "rent"}


def test_it_accepts_the_same_push_twice_without_a_second_write(
    world, campaign, canvasser, pull, push
):
    last = pull(canvasser).json()["timestamp"]
    changes = {
        "contacts": {"created": [contact(world, campaign)]},
        "people": {"created": [new_person(world)]},
        "volunteer_signups": {"created": [signup(world)]},
    }
    assert push(canvasser, changes, last).status_code == 200
    again = push(canvasser, changes, last)
    assert again.status_code == 200, again.json()
    assert again.json()["applied"] == {
        "contacts": 0,
        "people": 0,
        "volunteer_signups": 0,
        "unchanged": 3,
    }
    assert ContactAttempt.objects.count() == 1
    assert Person.objects.filter(last_name="Silva").count() == 1
    assert VolunteerSignup.objects.count() == 1


def test_it_keeps_the_first_version_of_a_contact(world, campaign, canvasser, pull, push):
    last = pull(canvasser).json()["timestamp"]
    knock = contact(world, campaign, notes="first")
    push(canvasser, {"contacts": {"created": [knock]}}, last)
    edited = {**knock, "notes": "edited later", "_status": "updated"}
    response = push(canvasser, {"contacts": {"updated": [edited]}}, last)
    assert response.status_code == 200
    assert response.json()["applied"]["unchanged"] == 1
    assert ContactAttempt.objects.get(pk=knock["id"]).notes == "first"


def test_it_applies_a_phone_correction(world, campaign, canvasser, pull, push):
    campaign.show_phone_to_canvassers = True
    campaign.save()
    body = pull(canvasser).json()
    person = next(
        p for p in body["changes"]["people"]["created"] if p["id"] == str(world.people_a[0].pk)
    )
    person.update(phone="617-555-0100", _status="updated", _changed="phone")
    response = push(canvasser, {"people": {"updated": [person]}}, body["timestamp"])
    assert response.status_code == 200, response.json()
    assert Person.objects.get(pk=world.people_a[0].pk).phone == "617-555-0100"
    correction = PersonCorrection.objects.get()
    assert correction.kind == "phone" and correction.new_value == "617-555-0100"


def test_it_answers_409_when_a_pushed_person_changed_on_the_server_after_the_pull(
    world, campaign, canvasser, pull, push
):
    body = pull(canvasser).json()
    person = next(
        p for p in body["changes"]["people"]["created"] if p["id"] == str(world.people_a[0].pk)
    )
    server_side = world.people_a[0]
    server_side.first_name = "Renamed"
    server_side.save()  # a staff edit after the device's pull
    person.update(language="es", _status="updated")
    response = push(canvasser, {"people": {"updated": [person]}}, body["timestamp"])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "sync_conflict"
    assert Person.objects.get(pk=server_side.pk).language == ""
    assert PersonCorrection.objects.count() == 0
    # The client pulls and retries: now it goes through.
    again = pull(canvasser, body["timestamp"]).json()
    response = push(canvasser, {"people": {"updated": [person]}}, again["timestamp"])
    assert response.status_code == 200, response.json()
    assert Person.objects.get(pk=server_side.pk).language == "es"
    assert Person.objects.get(pk=server_side.pk).first_name == "Renamed"


def test_it_never_conflicts_on_contacts(world, campaign, canvasser, pull, push):
    last = pull(canvasser).json()["timestamp"]
    Person.objects.filter(pk=world.people_a[0].pk).update(
        first_name="Changed", updated_at=timezone.now() + timedelta(seconds=5)
    )
    response = push(canvasser, {"contacts": {"created": [contact(world, campaign)]}}, last)
    assert response.status_code == 200
    assert ContactAttempt.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"voters": {"created": []}}, "unknown_table"),
        ({"households": {"updated": [{"id": "1"}]}}, "read_only_table"),
        ({"result_codes": {"created": [{"id": "1"}]}}, "read_only_table"),
        ({"contacts": {"deleted": ["x"]}}, "delete_not_allowed"),
        ({"contacts": {"created": [{"id": 5}]}}, "invalid_id"),
        ({"contacts": {"created": [{"id": "not-a-uuid"}]}}, "invalid_id"),
        ({"contacts": {"created": [{"id": "3F2504E0-4F89-11D3-9A0C-0305E82C3301"}]}}, "invalid_id"),
        ({"contacts": {"created": [{"id": str(uuid.UUID(int=1)), "mood": "x"}]}}, "unknown_column"),
        ({"contacts": {"created": ["x"]}}, "invalid_record"),
        ({"contacts": {"created": {}}}, "invalid_changes"),
        ({"contacts": {"moved": []}}, "invalid_changes"),
        ([], "invalid_changes"),
    ],
)
def test_it_rejects_malformed_changes_with_a_stable_code(
    world, canvasser, pull, push, changes, code
):
    last = pull(canvasser).json()["timestamp"]
    response = push(canvasser, changes, last)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert ContactAttempt.objects.count() == 0


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"device_time": "2024-10-05T14:03:00"}, "naive_timestamp"),
        ({"device_time": "yesterday"}, "invalid_timestamp"),
        ({"device_time": -5}, "invalid_timestamp"),
        ({"device_time": True}, "invalid_timestamp"),
        ({"household_id": 12}, "invalid_value"),
        ({"person_id": "bogus"}, "invalid_value"),
        ({"answers": "{not json"}, "invalid_value"),
        ({"result_code_id": "999999"}, "unknown_result_code"),
        ({"gps_lat": "north"}, "invalid_value"),
    ],
)
def test_it_rejects_bad_values_with_a_stable_code(
    world, campaign, canvasser, pull, push, extra, code
):
    last = pull(canvasser).json()["timestamp"]
    response = push(canvasser, {"contacts": {"created": [contact(world, campaign, **extra)]}}, last)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert ContactAttempt.objects.count() == 0


def test_it_rejects_a_push_without_a_device_id(world, campaign, canvasser, pull, push):
    last = pull(canvasser).json()["timestamp"]
    response = push(
        canvasser, {"contacts": {"created": [contact(world, campaign)]}}, last, device=""
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "device_id_required"


@pytest.mark.parametrize("value", ["abc", -1, 0, "1.5", True, 10**17])
def test_it_rejects_a_bad_last_pulled_at_on_push(world, canvasser, push, value):
    response = push(canvasser, {}, value)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_last_pulled_at"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"last_pulled_at": "abc"}, "invalid_last_pulled_at"),
        ({"last_pulled_at": "-4"}, "invalid_last_pulled_at"),
        ({"last_pulled_at": "99999999999999"}, "invalid_last_pulled_at"),
        ({"schema_version": "x"}, "invalid_schema_version"),
        ({"migration": "{oops"}, "invalid_migration"),
        ({"migration": '{"from": 1, "tables": ["voters"], "columns": []}'}, "unknown_table"),
        ({"migration": '{"from": "1"}'}, "invalid_migration"),
        ({"migration": "[1]"}, "invalid_migration"),
    ],
)
def test_it_rejects_bad_pull_parameters(world, canvasser, client_for, campaign, params, code):
    response = client_for(canvasser).get("/api/sync/pull/", {"campaign_id": campaign.pk, **params})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code


def test_it_sends_a_migrated_table_in_full(world, canvasser, pull):
    last = pull(canvasser).json()["timestamp"]
    body = pull(
        canvasser,
        last,
        migration='{"from": 1, "tables": ["result_codes"], "columns": []}',
        schema_version=2,
    ).json()
    assert len(body["changes"]["result_codes"]["created"]) == 10


def test_it_tells_the_device_to_drop_a_signup_merged_into_an_existing_one(
    world, campaign, canvasser, pull, push
):
    existing = VolunteerSignup.objects.create(
        campaign=campaign, kind="member", email="vol@example.org", household=world.doors_a[0]
    )
    last = pull(canvasser).json()["timestamp"]
    mine = signup(world, person_id=None)
    assert push(canvasser, {"volunteer_signups": {"created": [mine]}}, last).status_code == 200
    assert VolunteerSignup.objects.count() == 1
    body = pull(canvasser, last).json()
    assert ids(body, "volunteer_signups", "deleted") == [mine["id"]]
    assert str(existing.pk) in ids(body, "volunteer_signups", "updated")
