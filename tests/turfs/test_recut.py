"""Re-cutting what is left: filters on final results, contacts and supporter IDs."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from canvass.models import ContactAttempt, HouseholdResult, ResultCode, SupporterScore
from tests.factories import person_make
from turf.models import CutRun, Turf, TurfDoor


def knock(campaign, household, canvasser, code: str) -> ContactAttempt:
    now = timezone.now()
    result_code = ResultCode.objects.get(campaign=campaign, code=code)
    attempt = ContactAttempt.objects.create(
        id=uuid.uuid4(),
        campaign=campaign,
        household=household,
        canvasser=canvasser,
        device_id="d1",
        result_code=result_code,
        device_time=now,
        effective_time=now,
        received_at=now,
        content_hash="x",
    )
    HouseholdResult.objects.create(
        campaign=campaign,
        household=household,
        attempt=attempt,
        result_code=result_code,
        effective_time=now,
        ever_contacted=result_code.is_contact,
        is_final=result_code.is_final,
    )
    return attempt


def preview_ids(response) -> set[int]:
    return {h for f in response.json()["features"] for h in f["properties"]["household_ids"]}


@pytest.mark.django_db
def test_it_recuts_only_doors_without_a_final_result(
    director, canvasser, campaign, sibling_campaign, grid, client_for
):
    done = grid.at(0, 0)
    knock(campaign, done, canvasser, "canvassed")  # final here
    knock(campaign, grid.at(0, 1), canvasser, "not_home")  # not final: stays
    knock(sibling_campaign, grid.at(0, 2), canvasser, "canvassed")  # another campaign: stays
    moved_out = grid.at(0, 3)
    moved_out.is_final = True
    moved_out.save()
    response = client_for(director).post(
        f"/api/campaigns/{campaign.pk}/recuts/preview/",
        {"district_id": grid.district.pk, "n_turfs": 2},
    )
    assert response.status_code == 200, response.json()
    assert preview_ids(response) == set(grid.ids) - {done.pk, moved_out.pk}
    assert response.json()["metrics"]["doors_excluded"] == 2
    assert Turf.objects.count() == 0


@pytest.mark.django_db
def test_it_recuts_only_doors_never_contacted(director, canvasser, campaign, grid, client_for):
    knock(campaign, grid.at(1, 1), canvasser, "come_back_later")  # a contact, not final
    knock(campaign, grid.at(1, 2), canvasser, "not_home")  # not a contact
    response = client_for(director).post(
        f"/api/campaigns/{campaign.pk}/recuts/preview/",
        {"district_id": grid.district.pk, "n_turfs": 2, "only_not_contacted": True},
    )
    assert response.status_code == 200
    assert preview_ids(response) == set(grid.ids) - {grid.at(1, 1).pk}


@pytest.mark.django_db
def test_it_recuts_supporters_for_get_out_the_vote_and_commits_drafts(
    director, canvasser, campaign, sibling_campaign, org, grid, client_for
):
    # Three supporters (1, 1, 2) at non-collinear doors, one undecided (3) that must stay out.
    cells = ((2, 0, 1), (2, 1, 2), (3, 1, 1), (2, 2, 3))
    for row, col, score in cells:
        person = person_make(org, household=grid.at(row, col))
        attempt = knock(campaign, person.household, canvasser, "not_home")
        SupporterScore.objects.create(
            campaign=campaign,
            person=person,
            score=score,
            attempt=attempt,
            effective_time=attempt.effective_time,
        )
    elsewhere = person_make(org, household=grid.at(3, 0))  # a 1, but in another campaign
    attempt = knock(sibling_campaign, elsewhere.household, canvasser, "not_home")
    SupporterScore.objects.create(
        campaign=sibling_campaign,
        person=elsewhere,
        score=1,
        attempt=attempt,
        effective_time=attempt.effective_time,
    )
    response = client_for(director).post(
        f"/api/campaigns/{campaign.pk}/recuts/",
        {"district_id": grid.district.pk, "n_turfs": 1, "supporter_scores": [1, 2]},
    )
    assert response.status_code == 201, response.json()
    run = CutRun.objects.get()
    assert run.parameters["supporter_scores"] == [1, 2]
    assert sorted(TurfDoor.objects.values_list("household_id", flat=True)) == sorted(
        [grid.at(2, 0).pk, grid.at(2, 1).pk, grid.at(3, 1).pk]
    )
    assert response.json()["turfs"][0]["door_count"] == 3


@pytest.mark.django_db
def test_it_refuses_a_recut_with_nothing_left(director, canvasser, campaign, grid, client_for):
    response = client_for(director).post(
        f"/api/campaigns/{campaign.pk}/recuts/",
        {"district_id": grid.district.pk, "n_turfs": 1, "supporter_scores": [1]},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_doors"
    assert CutRun.objects.count() == 0
    assert Turf.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_supporter_scores_out_of_range(director, campaign, grid, client_for):
    response = client_for(director).post(
        f"/api/campaigns/{campaign.pk}/recuts/preview/",
        {"district_id": grid.district.pk, "n_turfs": 1, "supporter_scores": [0, 6]},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
