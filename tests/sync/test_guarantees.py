"""DESIGN.md §6 guarantees, on PostgreSQL: concurrent devices, retries after a dropped
connection, a failure half-way through a batch, and order independence (Hypothesis).

SQLite serialises every write transaction, so concurrency there proves nothing; these run on
PostgreSQL only (`DATABASE_URL=postgres://...`).
"""

from __future__ import annotations

import random
import threading
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canvass.models import (
    ContactAttempt,
    HouseholdResult,
    Membership,
    Person,
    ResultCode,
    Role,
    SupporterScore,
    SyncLedgerEntry,
)
from canvass.sync import merge
from canvass.sync.merge import sync_items_merge
from tests.sync.conftest import assign, doors_of, people_at, turf_make
from turf.models import Assignment

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Concurrency guarantees need PostgreSQL (SQLite serialises all writers).",
    ),
]

CODES = ["canvassed", "not_home", "refused", "come_back_later"]


def oracle(items, campaign_id):
    """The serial answer: latest supporter ID per person and door results, by
    (effective_time, uuid hex), computed in Python from the unique items."""
    codes = dict(ResultCode.objects.filter(campaign_id=campaign_id).values_list("code", "is_final"))
    contact = dict(
        ResultCode.objects.filter(campaign_id=campaign_id).values_list("code", "is_contact")
    )
    unique = {item["id"]: item for item in items}.values()
    scores, doors = {}, {}
    for item in unique:
        key = (item["_t"], uuid.UUID(item["id"]).hex)
        if item.get("supporter_id") is not None:
            best = scores.get(item["person"])
            if best is None or key > best[0]:
                scores[item["person"]] = (key, item["supporter_id"])
        door = doors.setdefault(item["household"], [None, 0, False, False])
        if door[0] is None or key > door[0][0]:
            door[0] = (key, item["id"])
        door[1] += 1
        door[2] = door[2] or contact[item["result_code"]]
        door[3] = door[3] or codes[item["result_code"]]
    return (
        {person: score for person, (_, score) in scores.items()},
        {h: (d[0][1], d[1], d[2], d[3]) for h, d in doors.items()},
    )


def stored_state(campaign_id):
    scores = dict(
        SupporterScore.objects.filter(campaign_id=campaign_id).values_list("person_id", "score")
    )
    doors = {
        h: (str(a), n, c, f)
        for h, a, n, c, f in HouseholdResult.objects.filter(campaign_id=campaign_id).values_list(
            "household_id", "attempt_id", "attempts", "ever_contacted", "is_final"
        )
    }
    return scores, doors


def knock(rng, door, person, base, *, minutes):
    when = base - timedelta(minutes=minutes)
    item = {
        "kind": "contact",
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "household": door.pk,
        "person": person.pk,
        "result_code": rng.choice(CODES),
        "supporter_id": rng.choice([None, 1, 2, 3, 4, 5]),
        "device_time": when.isoformat(),
    }
    return item, when


@pytest.mark.django_db(transaction=True)
def test_it_stores_every_item_once_under_50_concurrent_devices(campaign):
    rng = random.Random(20241105)
    turf = turf_make(campaign, doors=40)
    doors = doors_of(turf)
    people = {d.pk: people_at(d)[0] for d in doors}
    base = timezone.now()
    # The cast in three bulk inserts (the concurrency below is what this test is about).
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"device{n}") for n in range(50)]
    )
    Membership.objects.bulk_create(
        [Membership(campaign=campaign, user=u, role=Role.CANVASSER) for u in users]
    )
    Assignment.objects.bulk_create(
        [
            Assignment(
                campaign=campaign, turf=turf, canvasser=u, created_at=base - timedelta(days=1)
            )
            for u in users
        ]
    )
    devices = []
    for n, user in enumerate(users):
        items = []
        for _ in range(200):
            door = rng.choice(doors)
            # Coarse times: many ties across devices, broken by the attempt id.
            item, when = knock(rng, door, people[door.pk], base, minutes=rng.randrange(0, 30))
            items.append((item, when))
        rng.shuffle(items)
        batches = [items[i : i + 20] for i in range(0, 200, 20)]
        # 20% of batches are sent twice (a retry after a lost answer).
        batches += [b for b in batches if rng.random() < 0.2]
        rng.shuffle(batches)
        devices.append((user, f"phone-{n}", batches))

    errors: list[BaseException] = []
    results: list[str] = []
    lock = threading.Lock()

    def run(user, device_id, batches):
        try:
            for batch in batches:
                receipts = sync_items_merge(
                    user=user, device_id=device_id, items=[i for i, _ in batch]
                )
                with lock:
                    results.extend(r.status for r in receipts)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=device) for device in devices]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    all_items = [item for _, _, batches in devices for b in batches for item, _ in b]
    unique_ids = {i["id"] for i in all_items}
    assert len(unique_ids) == 10_000
    assert results.count("created") == 10_000
    assert results.count("rejected") == 0
    assert ContactAttempt.objects.count() == 10_000
    assert SyncLedgerEntry.objects.count() == 10_000
    times = {i["id"]: t for _, _, batches in devices for b in batches for i, t in b}
    for item in all_items:
        item["_t"] = times[item["id"]]
    assert stored_state(campaign.pk) == oracle(all_items, campaign.pk)


@pytest.mark.django_db(transaction=True)
def test_it_answers_duplicate_when_a_batch_is_retried_after_the_connection_dropped(
    campaign, canvasser, client_for, monkeypatch
):
    turf = turf_make(campaign, doors=3)
    assign(turf, canvasser)
    rng = random.Random(1)
    door = doors_of(turf)[0]
    items = [knock(rng, door, people_at(door)[0], timezone.now(), minutes=m)[0] for m in (1, 2)]
    real = merge.sync_batch_merge

    def commit_then_drop(**kwargs):
        real(**kwargs)  # committed
        connection.close()
        raise ConnectionResetError("client went away after the commit")

    monkeypatch.setattr("api.views.sync.sync_batch_merge", commit_then_drop)
    client = client_for(canvasser)
    client.raise_request_exception = False
    body = {"device_id": "phone", "items": items}
    assert client.post("/api/sync/contacts/", body, format="json").status_code == 500
    monkeypatch.setattr("api.views.sync.sync_batch_merge", real)

    retry = client.post("/api/sync/contacts/", body, format="json")

    assert retry.status_code == 200
    assert [r["status"] for r in retry.json()["receipts"]] == ["duplicate", "duplicate"]
    assert ContactAttempt.objects.count() == 2
    assert HouseholdResult.objects.get().attempts == 2


@pytest.mark.django_db(transaction=True)
def test_it_writes_nothing_when_a_batch_fails_half_way(
    campaign, canvasser, client_for, monkeypatch
):
    turf = turf_make(campaign, doors=4)
    assign(turf, canvasser)
    rng = random.Random(2)
    now = timezone.now()
    new_people = [
        {
            "kind": "new_person",
            "id": str(uuid.uuid4()),
            "household": d.pk,
            "first_name": f"New{n}",
            "device_time": now.isoformat(),
        }
        for n, d in enumerate(doors_of(turf))
    ]
    contacts = [knock(rng, d, people_at(d)[0], now, minutes=1)[0] for d in doors_of(turf)]
    body = {"device_id": "phone", "items": new_people + contacts}
    people_before = Person.objects.count()
    calls = {"n": 0}
    real = merge._new_person

    def fail_on_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(merge, "_new_person", fail_on_third)
    monkeypatch.setitem(merge._SINGLE_HANDLERS, "new_person", merge.person_create_at_door)
    client = client_for(canvasser)

    failed = client.post("/api/sync/contacts/", body, format="json")

    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == "sync_unavailable"
    assert Person.objects.count() == people_before
    assert SyncLedgerEntry.objects.count() == 0
    assert ContactAttempt.objects.count() == 0
    assert HouseholdResult.objects.count() == 0

    # Half-way through the bulk contact write, too: after the contacts' writes (one statement
    # on PostgreSQL, four elsewhere, the door results last), before the commit.
    monkeypatch.setattr(merge, "_new_person", real)
    target = (
        "_contacts_write_pg" if connection.vendor == "postgresql" else "_household_results_upsert"
    )
    real_write = getattr(merge, target)

    def write_then_fail(*args, **kwargs):
        real_write(*args, **kwargs)
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(merge, target, write_then_fail)
    assert client.post("/api/sync/contacts/", body, format="json").status_code == 503
    assert (ContactAttempt.objects.count(), SyncLedgerEntry.objects.count()) == (0, 0)
    assert Person.objects.count() == people_before

    monkeypatch.undo()
    retry = client.post("/api/sync/contacts/", body, format="json")
    assert retry.json()["summary"] == {"created": 8, "duplicate": 0, "rejected": 0}
    assert Person.objects.count() == people_before + 4
    assert ContactAttempt.objects.count() == 4


@pytest.fixture
def small_world(campaign, canvasser):
    turf = turf_make(campaign, doors=3)
    assign(turf, canvasser, start=timezone.now() - timedelta(days=1))
    rng = random.Random(3)
    doors = doors_of(turf)
    base = timezone.now()
    items = []
    for n in range(12):
        door = doors[n % 3]
        # Only four distinct times: ties are common and must be broken the same way.
        item, when = knock(rng, door, people_at(door)[0], base, minutes=n % 4)
        item["supporter_id"] = rng.choice([1, 2, 3, 4, 5])
        item["_t"] = when
        items.append(item)
    return items


@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_it_reaches_the_same_state_whatever_the_order_of_the_batches(
    small_world, canvasser, campaign, data
):
    for model in (SupporterScore, HouseholdResult, ContactAttempt, SyncLedgerEntry):
        model.objects.all().delete()
    items = small_world
    order = data.draw(st.permutations(range(len(items))))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(items) - 1), max_size=5)))
    batches = [
        [items[i] for i in order[a:b]] for a, b in zip([0, *cuts], [*cuts, len(items)], strict=True)
    ]
    retried = data.draw(st.lists(st.sampled_from(batches), max_size=3))

    for batch in batches + retried:
        clean = [{k: v for k, v in item.items() if k != "_t"} for item in batch]
        sync_items_merge(user=canvasser, device_id="phone", items=clean)

    assert ContactAttempt.objects.count() == len(items)
    assert stored_state(campaign.pk) == oracle(items, campaign.pk)
