from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from canvass.models import ContactAttempt, HouseholdResult, ResultCode, SupporterScore
from tests.factories import household_make, person_make
from turf.models import Turf, TurfDoor

T0 = datetime(2026, 10, 3, 14, 0, tzinfo=UTC)


def knock(
    campaign,
    household,
    canvasser,
    code: str,
    at: datetime,
    *,
    person=None,
    turf=None,
    supporter_id=None,
):
    result = ResultCode.objects.get(campaign=campaign, code=code)
    attempt = ContactAttempt.objects.create(
        id=uuid.uuid4(),
        campaign=campaign,
        turf=turf,
        household=household,
        person=person,
        canvasser=canvasser,
        device_id="dev-1",
        result_code=result,
        supporter_id=supporter_id,
        device_time=at,
        effective_time=at,
        received_at=at,
        content_hash="x",
    )
    HouseholdResult.objects.update_or_create(
        campaign=campaign,
        household=household,
        defaults={
            "attempt": attempt,
            "result_code": result,
            "effective_time": at,
            "is_final": result.is_final,
            "ever_contacted": result.is_contact,
        },
    )
    if supporter_id and person:
        SupporterScore.objects.update_or_create(
            campaign=campaign,
            person=person,
            defaults={"score": supporter_id, "attempt": attempt, "effective_time": at},
        )
    return attempt


@pytest.fixture
def knocked(org, campaign, sibling_campaign, canvasser, other_canvasser):
    """Six doors in one published turf: canvasser knocks 4 over 30 minutes (2 contacts), the other
    canvasser knocks 1 door twice; one door untouched. A sibling campaign's knock must not count."""
    homes = [household_make(org, number=str(n), lon=-71.11 + n * 1e-4) for n in range(6)]
    people = [
        person_make(org, household=h, first_name=f"Secret{n}", last_name=f"Voter{n}")
        for n, h in enumerate(homes)
    ]
    turf = Turf.objects.create(
        campaign=campaign, list_number="K7Q2MX", status="published", door_count=6
    )
    TurfDoor.objects.bulk_create(
        [TurfDoor(turf=turf, household=h, position=i) for i, h in enumerate(homes)]
    )
    knock(
        campaign, homes[0], canvasser, "canvassed", T0, person=people[0], turf=turf, supporter_id=1
    )
    knock(campaign, homes[1], canvasser, "not_home", T0 + timedelta(minutes=10), turf=turf)
    knock(
        campaign,
        homes[2],
        canvasser,
        "canvassed",
        T0 + timedelta(minutes=20),
        person=people[2],
        turf=turf,
        supporter_id=4,
    )
    knock(campaign, homes[3], canvasser, "moved", T0 + timedelta(minutes=30), turf=turf)
    knock(campaign, homes[4], other_canvasser, "not_home", T0 + timedelta(hours=3), turf=turf)
    knock(
        campaign,
        homes[4],
        other_canvasser,
        "not_home",
        T0 + timedelta(hours=3, minutes=1),
        turf=turf,
    )
    knock(sibling_campaign, homes[5], canvasser, "canvassed", T0, person=people[5], supporter_id=2)
    return {"homes": homes, "people": people, "turf": turf}


@pytest.mark.django_db
def test_it_reports_contact_rates_for_the_campaign_only(knocked, director, campaign, client_for):
    response = client_for(director).get(f"/api/campaigns/{campaign.pk}/reports/contacts/")
    assert response.status_code == 200
    body = response.json()
    assert body["attempts"] == 6
    assert body["doors_knocked"] == 5
    assert body["contacts"] == 2
    assert body["contact_rate"] == pytest.approx(2 / 6, abs=1e-4)
    assert body["canvassers_active"] == 2
    # canvasser: 30 min + 3 min for the last door; other canvasser: 1 min + 3 min.
    assert body["canvassing_hours"] == pytest.approx((33 + 4) / 60, abs=0.01)
    assert body["doors_per_hour"] == pytest.approx(5 / ((33 + 4) / 60), abs=0.05)
    assert body["support"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 0}
    assert body["turfs"] == [
        {
            "turf_id": knocked["turf"].pk,
            "list_number": "K7Q2MX",
            "doors": 6,
            "doors_attempted": 5,
            "doors_final": 3,
            "completion": 0.8333,
        }
    ]
    assert body["goals"] == [
        {
            "metric": "doors_knocked",
            "target": 1000,
            "achieved": 5,
            "progress": 0.005,
            "due_date": None,
        }
    ]
    assert {r["code"]: r["count"] for r in body["results"]} == {
        "not_home": 3,
        "canvassed": 2,
        "moved": 1,
    }
    assert [c["canvasser"] for c in body["canvassers"]] == ["canvasser", "other_canvasser"]


@pytest.mark.django_db
def test_it_filters_the_window_with_a_negative_control(knocked, director, campaign, client_for):
    response = client_for(director).get(
        f"/api/campaigns/{campaign.pk}/reports/contacts/",
        {"since": "2026-10-03T16:00:00Z", "until": "2026-10-03T18:00:00+00:00"},
    )
    body = response.json()
    assert response.status_code == 200
    assert body["attempts"] == 2  # only the other canvasser's knocks at 17:00
    assert body["doors_knocked"] == 1
    assert [c["canvasser"] for c in body["canvassers"]] == ["other_canvasser"]


@pytest.mark.django_db
def test_it_gives_a_viewer_aggregates_without_voter_pii_or_canvasser_names(
    knocked, viewer, campaign, client_for
):
    response = client_for(viewer).get(f"/api/campaigns/{campaign.pk}/reports/contacts/")
    assert response.status_code == 200
    raw = response.content.decode()
    assert "canvassers" not in response.json()
    for person in knocked["people"]:
        assert (
            person.first_name not in raw and person.last_name not in raw and person.phone not in raw
        )
    assert "Magazine" not in raw


@pytest.mark.django_db
def test_it_rejects_naive_and_inverted_windows(director, campaign, client_for):
    client = client_for(director)
    naive = client.get(
        f"/api/campaigns/{campaign.pk}/reports/contacts/", {"since": "2026-10-03T16:00:00"}
    )
    assert naive.status_code == 400
    assert naive.json()["error"]["code"] == "invalid"
    assert "since" in naive.json()["error"]["fields"]
    inverted = client.get(
        f"/api/campaigns/{campaign.pk}/reports/contacts/",
        {"since": "2026-10-04T00:00:00Z", "until": "2026-10-03T00:00:00Z"},
    )
    assert inverted.status_code == 400
    assert "until" in inverted.json()["error"]["fields"]


@pytest.mark.parametrize("turf", ["99999999999999999999", "0", "1.5"])
def test_it_answers_400_for_a_turf_that_is_not_an_id(director, campaign, client_for, turf):
    # Past bigint, the id overflowed the database driver (a 500).
    response = client_for(director).get(
        f"/api/campaigns/{campaign.pk}/reports/contacts/", {"turf": turf}
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["turf"]


@pytest.mark.django_db
def test_it_hides_reports_from_canvassers_and_other_organizations(
    canvasser, outsider, campaign, client_for
):
    assert (
        client_for(canvasser).get(f"/api/campaigns/{campaign.pk}/reports/contacts/").status_code
        == 403
    )
    response = client_for(outsider).get(f"/api/campaigns/{campaign.pk}/reports/contacts/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_it_reports_in_a_fixed_number_of_queries(
    org, campaign, director, canvasser, client_for, django_assert_max_num_queries
):
    # The count must not grow with knocks or turfs: aggregates are computed in the database.
    for n in range(30):
        knock(campaign, household_make(org), canvasser, "not_home", T0 + timedelta(minutes=n))
    client = client_for(director)
    with django_assert_max_num_queries(16):
        response = client.get(f"/api/campaigns/{campaign.pk}/reports/contacts/")
    assert response.json()["attempts"] == 30


@pytest.mark.django_db
def test_it_reports_zeros_for_an_empty_campaign(director, campaign, client_for):
    body = client_for(director).get(f"/api/campaigns/{campaign.pk}/reports/contacts/").json()
    assert body["attempts"] == 0 and body["contact_rate"] is None and body["doors_per_hour"] is None
    assert body["turfs"] == [] and body["canvassers"] == []
