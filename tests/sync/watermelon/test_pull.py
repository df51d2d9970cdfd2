"""WatermelonDB pull: shape, scope, created/updated/deleted, the consistent snapshot."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from canvass.models import ContactAttempt, Person, ResultCode
from canvass.sync.watermelon import COLUMNS, TABLES, datetime_from_ms
from tests.factories import household_make, person_make
from tests.sync.watermelon.conftest import DEVICE, assign, ids, turf_make

pytestmark = pytest.mark.django_db


def test_it_answers_a_first_pull_in_the_protocol_shape(world, canvasser, pull):
    response = pull(canvasser)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"changes", "timestamp"}
    assert isinstance(body["timestamp"], int) and body["timestamp"] > 0
    assert set(body["changes"]) == set(TABLES)
    for table, ops in body["changes"].items():
        assert set(ops) == {"created", "updated", "deleted"}
        assert ops["updated"] == [] and ops["deleted"] == []
        for record in ops["created"]:
            assert set(record) == set(COLUMNS[table])
            assert isinstance(record["id"], str)
        all_ids = [r["id"] for r in ops["created"]]
        assert len(all_ids) == len(set(all_ids)), f"an id twice in {table}"
    household = body["changes"]["households"]["created"][0]
    assert isinstance(household["lon"], float) and isinstance(household["walk_position"], int)
    assert isinstance(household["updated_at"], int)
    assert household["turf_id"] == str(world.turf_a.pk)
    person = body["changes"]["people"]["created"][0]
    assert person["household_id"] in {str(h.pk) for h in world.doors_a}
    codes = body["changes"]["result_codes"]["created"]
    assert [c["code"] for c in codes][:2] == ["canvassed", "not_home"]
    assert isinstance(codes[0]["is_contact"], bool) and isinstance(codes[0]["position"], int)
    question = body["changes"]["questions"]["created"][0]
    assert question["key"] == "supporter_id" and question["show_if_option_ids"] == "[]"
    assert len(body["changes"]["response_options"]["created"]) == 5


def test_it_sends_only_the_assigned_turfs_doors_and_residents(world, canvasser, pull):
    body = pull(canvasser).json()
    assert sorted(ids(body, "households", "created")) == sorted(str(h.pk) for h in world.doors_a)
    assert sorted(ids(body, "people", "created")) == sorted(str(p.pk) for p in world.people_a)
    # Turf B's doors (also in the sibling campaign's turf) never appear, by id or by address.
    assert "Putnam Ave" not in json.dumps(body)
    assert {p.last_name for p in world.people_b}.isdisjoint(
        r["last_name"] for r in body["changes"]["people"]["created"]
    )


def test_it_never_sends_another_campaigns_result_codes_or_script(
    world, canvasser, sibling_campaign, campaign, pull
):
    body = pull(canvasser).json()
    sent = set(ids(body, "result_codes", "created"))
    assert sent == {
        str(pk) for pk in ResultCode.objects.filter(campaign=campaign).values_list("pk", flat=True)
    }
    assert sent.isdisjoint(
        str(pk)
        for pk in ResultCode.objects.filter(campaign=sibling_campaign).values_list("pk", flat=True)
    )


def test_it_sends_nothing_to_a_canvasser_without_assignments(world, other_canvasser, pull):
    body = pull(other_canvasser).json()
    assert body["changes"]["households"]["created"] == []
    assert body["changes"]["people"]["created"] == []


def test_it_answers_404_for_another_organizations_campaign(
    world, canvasser, outsider_campaign, client_for
):
    response = client_for(canvasser).get(
        "/api/sync/pull/", {"campaign_id": outsider_campaign.pk, "last_pulled_at": "null"}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_it_refuses_viewers(world, viewer, pull):
    response = pull(viewer)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "sync_forbidden"


def test_it_hides_phones_and_party_unless_the_campaign_shows_them(world, canvasser, campaign, pull):
    person = pull(canvasser).json()["changes"]["people"]["created"][0]
    assert person["phone"] is None and person["email"] is None and person["party"] is None
    campaign.show_phone_to_canvassers = True
    campaign.save()
    person = pull(canvasser).json()["changes"]["people"]["created"][0]
    assert person["phone"] == Person.objects.get(pk=person["id"]).phone


def test_it_sends_only_changes_since_the_last_pull(world, canvasser, pull):
    first = pull(canvasser).json()
    # Everything older than the look-back margin: out of the window (negative controls).
    Person.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    person = world.people_a[1]
    person.language = "es"
    person.save()
    body = pull(canvasser, first["timestamp"]).json()
    assert ids(body, "people", "updated") == [str(person.pk)]
    assert ids(body, "people", "created") == []
    assert body["changes"]["people"]["updated"][0]["language"] == "es"
    assert body["timestamp"] >= first["timestamp"]


def test_it_sends_a_new_resident_as_created(world, canvasser, org, pull):
    first = pull(canvasser).json()
    newcomer = person_make(org, household=world.doors_a[0])
    body = pull(canvasser, first["timestamp"]).json()
    assert ids(body, "people", "created") == [str(newcomer.pk)]


def test_it_delivers_a_row_stamped_before_a_pull_but_committed_after_it(world, canvasser, pull):
    """The commit-order race: a writer stamps updated_at, a pull runs, then the writer commits.
    Simulated by back-dating a change to before the pull's timestamp."""
    first = pull(canvasser).json()
    stamped = datetime_from_ms(first["timestamp"]) - timedelta(milliseconds=500)
    Person.objects.filter(pk=world.people_a[0].pk).update(language="pt", updated_at=stamped)
    body = pull(canvasser, first["timestamp"]).json()
    sent = body["changes"]["people"]["updated"]
    assert [r["id"] for r in sent if r["language"] == "pt"] == [str(world.people_a[0].pk)]
    # Re-sent as `updated` (the device may hold it already), never as `created`.
    assert str(world.people_a[0].pk) not in ids(body, "people", "created")


def test_it_sends_households_of_an_ended_assignment_as_deleted(world, canvasser, pull):
    first = pull(canvasser).json()
    world.assignment.ended_at = timezone.now()
    world.assignment.save()
    body = pull(canvasser, first["timestamp"]).json()
    assert sorted(ids(body, "households", "deleted")) == sorted(str(h.pk) for h in world.doors_a)
    assert sorted(ids(body, "people", "deleted")) == sorted(str(p.pk) for p in world.people_a)
    assert ids(body, "households", "created") == ids(body, "households", "updated") == []


def test_it_sends_households_of_an_expired_assignment_as_deleted(world, canvasser, pull):
    first = pull(canvasser).json()
    world.assignment.expires_at = timezone.now()
    world.assignment.save()
    body = pull(canvasser, first["timestamp"]).json()
    assert sorted(ids(body, "households", "deleted")) == sorted(str(h.pk) for h in world.doors_a)


def test_it_sends_a_newly_assigned_turf_as_created(world, canvasser, pull):
    first = pull(canvasser).json()
    assign(world.turf_b, canvasser, ago=timedelta(0))
    body = pull(canvasser, first["timestamp"] + 1).json()
    assert sorted(ids(body, "households", "created")) == sorted(str(h.pk) for h in world.doors_b)
    assert sorted(ids(body, "people", "created")) == sorted(str(p.pk) for p in world.people_b)
    assert ids(body, "households", "deleted") == []


def test_it_reassigns_a_turf_deleted_for_one_and_created_for_the_other(
    world, canvasser, other_canvasser, pull
):
    mine = pull(canvasser).json()
    theirs = pull(other_canvasser, device="device-b").json()
    world.assignment.ended_at = timezone.now()
    world.assignment.save()
    assign(world.turf_a, other_canvasser, ago=timedelta(0))
    body = pull(canvasser, mine["timestamp"]).json()
    assert sorted(ids(body, "households", "deleted")) == sorted(str(h.pk) for h in world.doors_a)
    body = pull(other_canvasser, theirs["timestamp"], device="device-b").json()
    assert sorted(ids(body, "households", "created")) == sorted(str(h.pk) for h in world.doors_a)


def test_it_sends_this_devices_contacts_as_updated_and_others_as_created(
    world, canvasser, campaign, pull
):
    first = pull(canvasser).json()
    code = ResultCode.objects.get(campaign=campaign, code="not_home")
    now = timezone.now()

    def knock(device):
        return ContactAttempt.objects.create(
            id=__import__("uuid").uuid4(),
            campaign=campaign,
            turf=world.turf_a,
            household=world.doors_a[0],
            canvasser=canvasser,
            device_id=device,
            result_code=code,
            device_time=now,
            effective_time=now,
            received_at=now,
            content_hash="x",
            notes="dog",
        )

    own, other = knock(DEVICE), knock("another-phone")
    body = pull(canvasser, first["timestamp"]).json()
    assert ids(body, "contacts", "updated") == [str(own.pk)]
    assert ids(body, "contacts", "created") == [str(other.pk)]
    record = body["changes"]["contacts"]["updated"][0]
    assert record["result_code_id"] == str(code.pk) and record["answers"] == "{}"
    assert isinstance(record["device_time"], int) and record["notes"] == "dog"


def test_its_timestamp_never_goes_backwards(world, canvasser, pull):
    ahead = int((timezone.now() + timedelta(minutes=5)).timestamp() * 1000)
    body = pull(canvasser, ahead).json()
    assert body["timestamp"] == ahead


def test_its_query_count_does_not_grow_with_rows(
    world, canvasser, org, pull, django_assert_max_num_queries
):
    # A constant number of queries: one per table and scope step, never one per row.
    pull(canvasser)  # creates the API token
    with django_assert_max_num_queries(16) as small:
        pull(canvasser)
    doors = [household_make(org) for _ in range(30)]
    for h in doors:
        person_make(org, household=h)
        person_make(org, household=h)
    assign(turf_make(world.turf_a.campaign, doors, "C-1"), canvasser)
    with django_assert_max_num_queries(len(small.captured_queries)) as big:
        body = pull(canvasser).json()
    assert len(body["changes"]["people"]["created"]) == 63
    assert len(big.captured_queries) == len(small.captured_queries)
