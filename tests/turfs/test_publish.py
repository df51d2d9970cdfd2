"""Publish (unique list numbers), revise, archive; assignments to canvassers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from canvass.access import assignments_active_for
from canvass.models import AuditEvent
from turf.models import Assignment, Turf, TurfDoor, assignment_in_force
from turf.services import turfs as services

LIST_NUMBER = re.compile(r"^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{6}$")


@pytest.mark.django_db
def test_it_publishes_a_draft_with_a_short_unambiguous_list_number(
    director, campaign, drafts, client_for
):
    response = client_for(director).post(f"/api/turfs/{drafts[0].pk}/publish/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "published"
    assert LIST_NUMBER.match(body["list_number"])
    turf = Turf.objects.get(pk=drafts[0].pk)
    assert turf.list_number == body["list_number"]
    assert turf.published_at is not None
    assert Turf.objects.filter(status="draft").count() == 3  # the others are untouched
    assert AuditEvent.objects.filter(action="turf.publish", object_id=str(turf.pk)).exists()


@pytest.mark.django_db
def test_it_draws_again_when_a_list_number_is_taken(campaign, drafts, monkeypatch):
    first = services.turf_publish(turf=drafts[0])
    codes = iter([first.list_number, first.list_number, "ZZZZ99"])
    monkeypatch.setattr(services, "list_number_generate", lambda: next(codes))
    second = services.turf_publish(turf=drafts[1])
    assert second.list_number == "ZZZZ99"
    assert Turf.objects.filter(list_number=first.list_number).count() == 1


@pytest.mark.django_db
def test_it_refuses_to_publish_twice(director, campaign, published, client_for):
    response = client_for(director).post(f"/api/turfs/{published.pk}/publish/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "turf_published"


@pytest.mark.django_db
def test_it_revises_a_published_turf_into_a_new_draft_version(
    director, campaign, published, client_for
):
    response = client_for(director).post(f"/api/turfs/{published.pk}/revise/")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["version"] == 2
    assert body["parent_id"] == published.pk
    assert body["list_number"] is None
    draft = Turf.objects.get(pk=body["id"])
    old_doors = list(published.turf_doors.values_list("household_id", "position"))
    assert sorted(draft.turf_doors.values_list("household_id", "position")) == sorted(old_doors)
    published.refresh_from_db()
    assert published.status == "published"  # untouched until the revision is published

    again = client_for(director).post(f"/api/turfs/{published.pk}/revise/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "revision_exists"
    assert Turf.objects.filter(parent=published).count() == 1


@pytest.mark.django_db
def test_it_archives_the_parent_and_moves_assignments_when_a_revision_is_published(
    campaign, published, canvasser
):
    services.assignment_create(turf=published, canvasser_ids=[canvasser.pk])
    revision = services.turf_revise(turf=published)
    revision = services.turf_publish(turf=revision)
    published.refresh_from_db()
    assert published.status == "archived"
    assert revision.status == "published"
    assert revision.list_number != published.list_number
    assert list(assignments_active_for(canvasser).values_list("turf_id", flat=True)) == [
        revision.pk
    ]


@pytest.mark.django_db
def test_it_archives_a_published_turf_and_ends_its_assignments(
    director, campaign, published, canvasser, client_for
):
    services.assignment_create(turf=published, canvasser_ids=[canvasser.pk])
    response = client_for(director).post(f"/api/turfs/{published.pk}/archive/")
    assert response.status_code == 200
    assert response.json()["status"] == "archived"
    assert response.json()["archived_at"] is not None
    assert Assignment.objects.get().ended_at is not None
    assert not assignments_active_for(canvasser).exists()


@pytest.mark.django_db
def test_it_refuses_to_archive_a_draft(director, campaign, drafts, client_for):
    response = client_for(director).post(f"/api/turfs/{drafts[0].pk}/archive/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "turf_not_published"
    assert Turf.objects.get(pk=drafts[0].pk).status == "draft"


@pytest.mark.django_db
def test_it_assigns_a_published_turf_to_canvassers_with_an_expiry(
    organizer, campaign, published, canvasser, other_canvasser, client_for
):
    expires = timezone.now() + timedelta(days=2)
    response = client_for(organizer).post(
        f"/api/turfs/{published.pk}/assignments/",
        {"canvasser_ids": [canvasser.pk, other_canvasser.pk], "expires_at": expires.isoformat()},
    )
    assert response.status_code == 201, response.json()
    rows = response.json()["assignments"]
    assert [r["canvasser_username"] for r in rows] == ["canvasser", "other_canvasser"]
    assert all(r["ended_at"] is None and r["turf_id"] == published.pk for r in rows)
    assert Assignment.objects.filter(turf=published, ended_at__isnull=True).count() == 2
    assert Assignment.objects.get(canvasser=canvasser).assigned_by == organizer
    assert list(assignments_active_for(canvasser).values_list("turf_id", flat=True)) == [
        published.pk
    ]
    assert not assignments_active_for(canvasser, at=expires + timedelta(seconds=1)).exists()


@pytest.mark.django_db
def test_it_refuses_to_assign_a_draft(director, campaign, drafts, canvasser, client_for):
    response = client_for(director).post(
        f"/api/turfs/{drafts[0].pk}/assignments/", {"canvasser_ids": [canvasser.pk]}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "turf_not_published"
    assert Assignment.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["viewer", "director", "outsider"])
def test_it_refuses_to_assign_someone_who_is_not_a_canvasser_of_the_campaign(
    request, director, campaign, published, canvasser, client_for, who
):
    user = request.getfixturevalue(who)
    response = client_for(director).post(
        f"/api/turfs/{published.pk}/assignments/", {"canvasser_ids": [canvasser.pk, user.pk]}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_a_canvasser"
    assert response.json()["error"]["fields"] == {"canvasser_ids": [str(user.pk)]}
    assert Assignment.objects.count() == 0  # all or nothing: not even the good canvasser


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [297019059289636995072, 0, -4011, 1.5, "x"])
def test_it_answers_400_for_a_canvasser_id_that_is_not_an_id(
    director, campaign, published, canvasser, client_for, bad
):
    # 297019059289636995072 (past bigint) overflowed the database driver (a 500; schemathesis).
    response = client_for(director).post(
        f"/api/turfs/{published.pk}/assignments/",
        {"canvasser_ids": [canvasser.pk, bad]},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["fields"])) == ("invalid", ["canvasser_ids"])
    assert Assignment.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_second_open_assignment_and_an_expiry_in_the_past(
    director, campaign, published, canvasser, client_for
):
    client = client_for(director)
    client.post(f"/api/turfs/{published.pk}/assignments/", {"canvasser_ids": [canvasser.pk]})
    again = client.post(
        f"/api/turfs/{published.pk}/assignments/", {"canvasser_ids": [canvasser.pk]}
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_assigned"
    past = client.post(
        f"/api/turfs/{published.pk}/assignments/",
        {"canvasser_ids": [canvasser.pk], "expires_at": "2000-01-01T00:00:00Z"},
    )
    assert past.status_code == 400
    assert Assignment.objects.count() == 1


@pytest.mark.django_db
def test_it_unassigns_by_setting_ended_at(organizer, campaign, published, canvasser, client_for):
    (assignment,) = services.assignment_create(turf=published, canvasser_ids=[canvasser.pk])
    client = client_for(organizer)
    response = client.delete(f"/api/turfs/{published.pk}/assignments/{assignment.pk}/")
    assert response.status_code == 200
    assert response.json()["ended_at"] is not None
    assignment.refresh_from_db()
    ended = assignment.ended_at
    assert ended is not None
    assert not assignments_active_for(canvasser).exists()
    # Ending again is a no-op that keeps the first end time.
    assert (
        client.delete(f"/api/turfs/{published.pk}/assignments/{assignment.pk}/").status_code == 200
    )
    assignment.refresh_from_db()
    assert assignment.ended_at == ended
    listed = client.get(f"/api/turfs/{published.pk}/assignments/").json()
    assert [a["id"] for a in listed] == [assignment.pk]


@pytest.mark.django_db
def test_it_answers_404_for_an_assignment_of_another_turf(
    director, campaign, drafts, published, canvasser, client_for
):
    (assignment,) = services.assignment_create(turf=published, canvasser_ids=[canvasser.pk])
    other = services.turf_publish(turf=drafts[1])
    response = client_for(director).delete(f"/api/turfs/{other.pk}/assignments/{assignment.pk}/")
    assert response.status_code == 404
    assert Assignment.objects.get().ended_at is None


@pytest.mark.django_db
def test_it_lets_canvassers_neither_assign_nor_edit(
    canvasser, campaign, drafts, published, client_for
):
    services.assignment_create(turf=published, canvasser_ids=[canvasser.pk])
    client = client_for(canvasser)
    assert (
        client.post(
            f"/api/turfs/{published.pk}/assignments/", {"canvasser_ids": [canvasser.pk]}
        ).status_code
        == 403
    )
    assert client.post(f"/api/turfs/{published.pk}/archive/").status_code == 403
    assert client.patch(f"/api/turfs/{published.pk}/", {"name": "mine"}).status_code == 403
    # A draft they are not assigned to does not exist for them.
    assert client.post(f"/api/turfs/{drafts[1].pk}/publish/").status_code == 404
    assert Turf.objects.get(pk=drafts[1].pk).status == "draft"
    assert TurfDoor.objects.count() == 48


@pytest.mark.django_db
def test_an_assignment_is_in_force_by_the_same_rule_in_python_and_in_sql(
    campaign, published, canvasser
):
    """`assignment_in_force` (for times already read: the merge, the WatermelonDB pull) and
    `Assignment.objects.active_at` (SQL) agree, bounds included: from the start on, up to
    but not at the end or the expiry."""
    start = timezone.now() - timedelta(hours=3)
    end, expires = start + timedelta(hours=1), start + timedelta(hours=2)
    for ended, expiry in [(None, None), (end, None), (None, expires), (end, expires)]:
        a = Assignment.objects.create(
            campaign=campaign,
            turf=published,
            canvasser=canvasser,
            created_at=start,
            ended_at=ended,
            expires_at=expiry,
        )
        moments = [start - timedelta(seconds=1), start, end - timedelta(seconds=1), end]
        moments += [expires - timedelta(seconds=1), expires, timezone.now()]
        python = [assignment_in_force(start, ended, expiry, at) for at in moments]
        sql = [Assignment.objects.filter(pk=a.pk).active_at(at).exists() for at in moments]
        assert python == sql
        assert python[:2] == [False, True]
        a.delete()
