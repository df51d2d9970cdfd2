"""The merge services (canvass.sync.merge), called directly."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from canvass.models import (
    ContactAttempt,
    HouseholdResult,
    Person,
    SupporterScore,
    SyncLedgerEntry,
    VolunteerSignup,
)
from canvass.sync.merge import (
    household_result_recompute,
    item_content_hash,
    supporter_score_recompute,
    sync_items_merge,
)
from tests.sync.conftest import doors_of, people_at
from turf.models import Assignment

pytestmark = pytest.mark.django_db


def receipts_of(user, items, **kw):
    return [r.as_dict() for r in sync_items_merge(user=user, device_id="dev-1", items=items, **kw)]


def signup_item(**extra):
    return {
        "kind": "signup",
        "id": str(uuid.uuid4()),
        "signup_kind": "volunteer",
        "email": "ana@example.org",
        "device_time": timezone.now().isoformat(),
        **extra,
    }


def test_it_stores_a_contact_and_derives_the_score_and_the_door_result(
    assigned_turf, canvasser, contact_item
):
    door = doors_of(assigned_turf)[0]
    person = people_at(door)[0]
    item = contact_item(door, person=person.pk, result_code="canvassed", supporter_id=2)

    [receipt] = receipts_of(canvasser, [item])

    assert receipt == {
        "id": item["id"],
        "status": "created",
        "reason": None,
        "message": "Stored.",
        "object_id": item["id"],
        "flags": [],
    }
    attempt = ContactAttempt.objects.get()
    assert str(attempt.id) == item["id"]
    assert attempt.turf_id == assigned_turf.pk
    assert attempt.supporter_id == 2
    score = SupporterScore.objects.get()
    assert (score.person_id, score.score, score.attempt_id) == (person.pk, 2, attempt.id)
    result = HouseholdResult.objects.get()
    assert (result.household_id, result.attempts, result.ever_contacted, result.is_final) == (
        door.pk,
        1,
        True,
        True,
    )
    assert SyncLedgerEntry.objects.get().client_id == attempt.id


def test_it_answers_duplicate_for_a_retried_item_and_changes_nothing(
    assigned_turf, canvasser, contact_item
):
    door = doors_of(assigned_turf)[0]
    item = contact_item(door)
    receipts_of(canvasser, [item])

    [receipt] = receipts_of(canvasser, [item])

    assert (receipt["status"], receipt["reason"], receipt["object_id"]) == (
        "duplicate",
        None,
        item["id"],
    )
    assert ContactAttempt.objects.count() == 1
    assert HouseholdResult.objects.get().attempts == 1


def test_it_answers_duplicate_for_a_retry_after_the_assignment_was_withdrawn(
    assigned_turf, canvasser, contact_item
):
    # The ledger settles a known id even when the item would no longer pass the scope check
    # (the merge looks the ledger up only for the items the checks refuse).
    door = doors_of(assigned_turf)[0]
    item = contact_item(door)
    receipts_of(canvasser, [item])
    Assignment.objects.filter(turf=assigned_turf).delete()
    stranger = contact_item(door)

    first, second = receipts_of(canvasser, [item, stranger])

    assert (first["status"], first["reason"], first["object_id"]) == (
        "duplicate",
        None,
        item["id"],
    )
    assert (second["status"], second["reason"]) == ("rejected", "unknown_household")
    assert [str(pk) for pk in ContactAttempt.objects.values_list("pk", flat=True)] == [item["id"]]
    assert HouseholdResult.objects.get().attempts == 1
    assert not SyncLedgerEntry.objects.filter(client_id=stranger["id"]).exists()


def test_it_answers_id_conflict_for_changed_content_after_the_assignment_was_withdrawn(
    assigned_turf, canvasser, contact_item
):
    door = doors_of(assigned_turf)[0]
    item = contact_item(door)
    receipts_of(canvasser, [item])
    Assignment.objects.filter(turf=assigned_turf).delete()

    [receipt] = receipts_of(canvasser, [{**item, "notes": "changed"}])

    assert (receipt["status"], receipt["reason"]) == ("rejected", "id_conflict")
    assert ContactAttempt.objects.get().notes == ""


def test_it_rejects_the_same_id_with_different_content_as_an_id_conflict(
    assigned_turf, canvasser, contact_item
):
    door = doors_of(assigned_turf)[0]
    item = contact_item(door)
    receipts_of(canvasser, [item])

    [receipt] = receipts_of(canvasser, [{**item, "notes": "changed"}])

    assert (receipt["status"], receipt["reason"]) == ("rejected", "id_conflict")
    assert ContactAttempt.objects.get().notes == ""


def test_it_keeps_the_latest_supporter_id_whatever_the_arrival_order(
    assigned_turf, canvasser, contact_item
):
    door = doors_of(assigned_turf)[0]
    person = people_at(door)[0]
    now = timezone.now()
    later = contact_item(
        door, person=person.pk, supporter_id=1, device_time=(now - timedelta(hours=1)).isoformat()
    )
    earlier = contact_item(
        door, person=person.pk, supporter_id=5, device_time=(now - timedelta(hours=2)).isoformat()
    )

    receipts_of(canvasser, [later])
    receipts_of(canvasser, [earlier])

    score = SupporterScore.objects.get()
    assert (score.score, str(score.attempt_id)) == (1, later["id"])
    result = HouseholdResult.objects.get()
    assert (result.attempts, str(result.attempt_id)) == (2, later["id"])
    assert (
        supporter_score_recompute(campaign_id=assigned_turf.campaign_id, person_id=person.pk).score
        == 1
    )
    assert (
        household_result_recompute(
            campaign_id=assigned_turf.campaign_id, household_id=door.pk
        ).attempts
        == 2
    )


def test_it_creates_a_new_person_once_and_lets_a_contact_name_them(
    assigned_turf, canvasser, contact_item
):
    door = doors_of(assigned_turf)[0]
    new_id = str(uuid.uuid4())
    new_person = {
        "kind": "new_person",
        "id": new_id,
        "household": door.pk,
        "first_name": "Ana",
        "last_name": "Diaz",
        "device_time": timezone.now().isoformat(),
    }
    contact = contact_item(door, person=new_id, result_code="canvassed", supporter_id=3)

    receipts = receipts_of(canvasser, [contact, new_person])
    again = receipts_of(canvasser, [new_person])

    assert [r["status"] for r in receipts] == ["created", "created"], receipts
    assert again[0]["status"] == "duplicate"
    created = Person.objects.get(first_name="Ana")
    assert receipts[1]["object_id"] == str(created.pk)
    assert created.source == "door"
    assert SupporterScore.objects.get().person_id == created.pk


def test_it_creates_a_new_signup_under_the_devices_id(assigned_turf, canvasser, campaign):
    item = signup_item()

    [receipt] = receipts_of(canvasser, [item], campaign_id=campaign.pk)

    assert (receipt["status"], receipt["object_id"]) == ("created", item["id"])
    assert str(VolunteerSignup.objects.get().pk) == item["id"]
    assert SyncLedgerEntry.objects.get().object_id == item["id"]


def test_it_rejects_a_signup_whose_id_belongs_to_another_row_and_leaves_that_row_alone(
    assigned_turf, canvasser, campaign, sibling_campaign
):
    foreign = VolunteerSignup.objects.create(
        campaign=sibling_campaign, kind="member", email="other@example.org"
    )
    item = signup_item(id=str(foreign.pk))

    [receipt] = receipts_of(canvasser, [item], campaign_id=campaign.pk)

    assert (receipt["status"], receipt["reason"]) == ("rejected", "id_conflict")
    assert list(VolunteerSignup.objects.values_list("pk", "campaign_id", "email")) == [
        (foreign.pk, sibling_campaign.pk, "other@example.org")
    ]
    assert not SyncLedgerEntry.objects.exists()


def test_the_content_hash_is_sha256_of_the_canonical_json_and_stays_the_same():
    # Pinned: the ledger stores these hashes, so a retry of an old batch must hash the same.
    item = {
        "kind": "contact",
        "notes": "Caf\u00e9 \u2013 \u00fcn\u00efcode \U0001f642",
        "answers": {"z": [1, 2.5, None, True], "a": "x"},
        "id": "00000000-0000-4000-8000-000000000001",
        "gps": {"lon": -71.1, "lat": 42.37},
    }
    assert (
        item_content_hash(item)
        == "cc102f541f8ff9735cb0b351903a28c048b3a7aa1b64403fcdfbdf258ce62e3a"
    )
    assert item_content_hash(dict(reversed(item.items()))) == item_content_hash(item)


def test_derived_rows_follow_deletions_without_database_constraints(
    assigned_turf, canvasser, contact_item
):
    """Scores and door results have no FK constraints in the database (models.py): deleting
    what they point at is still refused (PROTECT) or cascades through Django's collector."""
    from django.db.models import ProtectedError

    door = doors_of(assigned_turf)[0]
    person = people_at(door)[0]
    receipts_of(
        canvasser, [contact_item(door, person=person.pk, result_code="canvassed", supporter_id=1)]
    )
    result = HouseholdResult.objects.select_related("result_code").get()

    with pytest.raises(ProtectedError):
        result.result_code.delete()
    assert HouseholdResult.objects.filter(pk=result.pk).exists()

    person.delete()  # their score goes with them; the knock stays, without the person
    assert not SupporterScore.objects.exists()
    assert ContactAttempt.objects.get().person_id is None
    assert HouseholdResult.objects.filter(pk=result.pk).exists()


def test_ledger_rows_follow_deletions_without_database_constraints(
    assigned_turf, canvasser, campaign
):
    """The ledger has no FK constraints in the database (models.py): a canvasser it names
    is still protected, and deleting the campaign still takes its rows."""
    from django.db.models import ProtectedError

    item = signup_item()
    [receipt] = receipts_of(canvasser, [item], campaign_id=campaign.pk)
    assert receipt["status"] == "created"
    # The sign-up lets its canvasser go (SET_NULL): only the ledger row holds on to them.
    with pytest.raises(ProtectedError):
        canvasser.delete()
    assert SyncLedgerEntry.objects.filter(canvasser=canvasser).count() == 1

    campaign.delete()
    assert not SyncLedgerEntry.objects.exists()
    assert not VolunteerSignup.objects.exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="HOT updates are a PostgreSQL mechanism"
)
def test_a_newer_knock_updates_the_derived_rows_in_place(assigned_turf, canvasser, contact_item):
    """A revisit replaces the door's result and the person's score without one index write:
    neither table indexes a column a newer knock rewrites (models.py), so PostgreSQL updates
    the rows in place (HOT). An index on e.g. the result code would make these updates cold."""
    door = doors_of(assigned_turf)[0]
    person = people_at(door)[0]
    first = contact_item(door, person=person.pk, result_code="not_home", supporter_id=3)
    receipts_of(canvasser, [first])

    def updates() -> list[tuple[str, int, int]]:
        # This backend's counts, not yet flushed: it does not flush inside the test's
        # transaction, so the difference between two readings is exact.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
                "WHERE relname IN (%s, %s) ORDER BY relname",
                [HouseholdResult._meta.db_table, SupporterScore._meta.db_table],
            )
            return cursor.fetchall()

    before = updates()
    later = contact_item(door, person=person.pk, result_code="canvassed", supporter_id=1)
    later["device_time"] = (timezone.now() - timedelta(minutes=1)).isoformat()
    [receipt] = receipts_of(canvasser, [later])
    after = updates()

    assert receipt["status"] == "created"
    assert HouseholdResult.objects.get().result_code.code == "canvassed"
    assert SupporterScore.objects.get().score == 1
    assert [(b[0], a[1] - b[1], a[2] - b[2]) for b, a in zip(before, after, strict=True)] == [
        (HouseholdResult._meta.db_table, 1, 1),
        (SupporterScore._meta.db_table, 1, 1),
    ]
