"""Smoke test over every registered ModelAdmin of our apps: the changelist (plain, searched and
filtered by its first list filter), a change page and, where allowed, the add page answer 200 for
a superuser with rows in the tables. Append-only and derived rows are read-only."""

from __future__ import annotations

import uuid

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from canvass.models import (
    AuditEvent,
    ContactAttempt,
    ImportRowIssue,
    ImportRun,
    PersonCorrection,
    SyncLedgerEntry,
    VolunteerSignup,
)
from tests.universe.world import universe_build
from turf.models import CutRun, MapLayer

OUR_APPS = {"canvass", "turf"}
MODEL_ADMINS = sorted(
    (model._meta.app_label, model._meta.model_name, model_admin)
    for model, model_admin in admin.site._registry.items()
    if model._meta.app_label in OUR_APPS
)


@pytest.fixture
def admin_client_with_rows(
    client,
    django_user_model,
    org,
    campaign,
    canvasser,
    other_canvasser,
    outsider_org,
    outsider_campaign,
    make_user,
):
    outsider_canvasser = make_user("outsider_canvasser")
    world = universe_build(
        org=org,
        campaign=campaign,
        team_canvasser=canvasser,
        other_canvasser=other_canvasser,
        outsider_org=outsider_org,
        outsider_campaign=outsider_campaign,
        outsider_canvasser=outsider_canvasser,
    )
    now = timezone.now()
    person = world.team_people[0]
    VolunteerSignup.objects.create(
        campaign=campaign, person=person, kind="volunteer", first_name="Alma", employer="MBTA"
    )
    PersonCorrection.objects.create(
        id=uuid.uuid4(),
        campaign=campaign,
        person=person,
        kind="phone",
        old_value="1",
        new_value="2",
        canvasser=canvasser,
        device_id="d",
        device_time=now,
        received_at=now,
    )
    SyncLedgerEntry.objects.create(
        client_id=world.attempt.pk,
        campaign=campaign,
        kind="contact",
        content_hash="x" * 64,
        object_id=str(world.attempt.pk),
        canvasser=canvasser,
        device_id="d",
        received_at=now,
    )
    run = ImportRun.objects.create(organization=org, kind="voters", source_name="voters.csv")
    ImportRowIssue.objects.create(run=run, row_number=3, code="unmatched", message="no address")
    MapLayer.objects.create(
        organization=org,
        kind="rail",
        name="Rail",
        features={"type": "FeatureCollection", "features": []},
    )
    CutRun.objects.create(campaign=campaign, district=world.ward9)
    AuditEvent.objects.create(
        organization=org,
        campaign=campaign,
        action="turf_publish",
        object_type="Turf",
        object_id=str(world.team_turf.pk),
    )
    superuser = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw-boss")
    client.force_login(superuser)
    return client


def test_it_registers_every_model_of_our_apps():
    from django.apps import apps

    registered = {(app, name) for app, name, _ in MODEL_ADMINS}
    expected = {
        (m._meta.app_label, m._meta.model_name)
        for m in apps.get_models()
        if m._meta.app_label in OUR_APPS
        and m._meta.model_name
        not in {"turfdoor", "importrowissue", "campaigngoal", "responseoption"}
    }
    assert expected <= registered


@pytest.mark.django_db
@pytest.mark.parametrize(("app", "model_name", "model_admin"), MODEL_ADMINS, ids=lambda v: str(v))
def test_it_serves_the_admin_pages(admin_client_with_rows, app, model_name, model_admin):
    client = admin_client_with_rows
    changelist = reverse(f"admin:{app}_{model_name}_changelist")
    assert client.get(changelist).status_code == 200
    if model_admin.search_fields:
        assert client.get(changelist, {"q": "Magazine 9"}).status_code == 200
    obj = model_admin.model._default_manager.first()
    assert obj is not None, f"no {model_name} row to open"
    change = reverse(f"admin:{app}_{model_name}_change", args=[obj.pk])
    response = client.get(change)
    assert response.status_code == 200
    if model_admin.has_add_permission(response.wsgi_request):
        assert client.get(reverse(f"admin:{app}_{model_name}_add")).status_code == 200


@pytest.mark.django_db
def test_it_keeps_contact_attempts_read_only(admin_client_with_rows):
    client = admin_client_with_rows
    attempt = ContactAttempt.objects.get()
    change = reverse("admin:canvass_contactattempt_change", args=[attempt.pk])
    assert client.get(reverse("admin:canvass_contactattempt_add")).status_code == 403
    response = client.post(change, {"notes": "edited", "supporter_id": 5})
    assert response.status_code == 403
    assert (
        client.post(
            reverse("admin:canvass_contactattempt_delete", args=[attempt.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    attempt.refresh_from_db()
    assert (attempt.notes, attempt.supporter_id) == ("", 2)
    assert ContactAttempt.objects.count() == 1


@pytest.mark.django_db
def test_it_finds_people_by_name_voter_id_and_address(admin_client_with_rows):
    client = admin_client_with_rows
    url = reverse("admin:canvass_person_changelist")
    by_name = client.get(url, {"q": "Quintero"}).content.decode()
    assert "Alma" in by_name and "Okonkwo" not in by_name
    by_street = client.get(url, {"q": "Pleasant"}).content.decode()
    assert "Vasquez" in by_street and "Quintero" not in by_street
    voter_id = ContactAttempt.objects.get().person.external_voter_id
    by_id = client.get(url, {"q": voter_id}).content.decode()
    assert "Quintero" in by_id and "Lindqvist" not in by_id
