from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import household_make, person_make
from tests.universe.world import knock
from turf.models import Household

pytestmark = pytest.mark.django_db


def url(campaign, suffix: str = "") -> str:
    return f"/api/campaigns/{campaign.pk}/households/{suffix}"


def addresses(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [h["address"] for h in response.json()["results"]]


def test_it_lists_every_door_of_the_organization_to_the_director(
    universe, director, campaign, client_for
):
    response = client_for(director).get(url(campaign))
    # Ordered by street then number; the outsider's "99 Zanzibar Rd" never appears.
    assert addresses(response) == [
        "101 Brattle St",
        "12 Magazine St",
        "14 Magazine St",
        "7 Pleasant St",
    ]
    door = universe.team_doors[0]
    assert response.json()["results"][1] == {
        "id": door.pk,
        "external_id": door.external_id,
        "address": "12 Magazine St",
        "house_number": "12",
        "street": "Magazine St",
        "unit": "",
        "city": "Cambridge",
        "state": "",
        "zip_code": "",
        "lon": -71.115,
        "lat": 42.365,
        "building_key": door.building_key,
        "units_est": 1,
        "is_final": False,
        "final_reason": "",
        "district_ids": sorted([universe.ward9.pk, universe.precinct93.pk]),
        "people_count": 2,
        "last_result": {
            "result_code": "canvassed",
            "label": "Canvassed",
            "is_contact": True,
            "effective_time": response.json()["results"][1]["last_result"]["effective_time"],
            "attempts": 1,
            "ever_contacted": True,
            "is_final": True,
        },
        "updated_at": response.json()["results"][1]["updated_at"],
    }
    assert response.json()["results"][0]["last_result"] is None


def test_it_shows_only_this_campaigns_last_result(
    universe, director, campaign, sibling_campaign, other_canvasser, client_for
):
    knock(sibling_campaign, universe.loose_door, other_canvasser, code="not_home")
    body = client_for(director).get(url(campaign), {"street": "Brattle St"}).json()
    assert body["results"][0]["last_result"] is None


def test_it_lists_only_the_team_turf_doors_to_an_organizer(
    universe, organizer, campaign, client_for
):
    response = client_for(organizer).get(url(campaign))
    assert addresses(response) == ["12 Magazine St", "14 Magazine St"]
    assert response.json()["count"] == 2


def test_it_lists_nothing_to_an_organizer_once_the_team_assignment_ended(
    universe, organizer, campaign, client_for
):
    universe.team_turf.assignments.update(ended_at=timezone.now() - timedelta(minutes=1))
    assert addresses(client_for(organizer).get(url(campaign))) == []


def test_it_hides_other_teams_doors_from_an_organizer(universe, organizer, campaign, client_for):
    response = client_for(organizer).get(url(campaign, f"{universe.other_door.pk}/"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "Pleasant" not in response.content.decode()


@pytest.mark.parametrize("role", ["canvasser", "viewer"])
@pytest.mark.parametrize("suffix", ["", "door"])
def test_it_refuses_the_voter_universe_to_canvassers_and_viewers(
    universe, campaign, client_for, request, role, suffix
):
    user = request.getfixturevalue(role)
    path = url(campaign, f"{universe.team_doors[0].pk}/" if suffix else "")
    response = client_for(user).get(path)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "universe_forbidden"
    assert "cannot list the voter universe" in error["message"]
    assert "Magazine" not in response.content.decode()


def test_it_returns_a_door_with_its_residents(universe, director, campaign, client_for):
    response = client_for(director).get(url(campaign, f"{universe.team_doors[0].pk}/"))
    assert response.status_code == 200
    body = response.json()
    assert body["address"] == "12 Magazine St" and body["people_count"] == 2
    assert [(p["first_name"], p["last_name"], p["supporter_score"]) for p in body["people"]] == [
        ("Bertrand", "Okonkwo", None),
        ("Alma", "Quintero", 2),
    ]
    assert body["people"][1]["phone"] == "6175550101"


def test_it_answers_404_for_an_unknown_door(universe, director, campaign, client_for):
    response = client_for(director).get(url(campaign, "999999/"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"street": "magazine st"}, ["12 Magazine St", "14 Magazine St"]),
        ({"precinct": "9-3"}, ["12 Magazine St", "14 Magazine St"]),
        ({"precinct": "Precinct 9-3"}, ["12 Magazine St", "14 Magazine St"]),
        ({"ward": "9"}, ["12 Magazine St", "14 Magazine St", "7 Pleasant St"]),
        ({"ward": "2"}, ["101 Brattle St"]),
        ({"ward": "5"}, []),
        ({"q": "12 magazine"}, ["12 Magazine St"]),
        ({"q": "pleas"}, ["7 Pleasant St"]),
        ({"house_number": "14"}, ["14 Magazine St"]),
        ({"result": "canvassed"}, ["12 Magazine St"]),
        ({"result": "not_home"}, []),
        ({"knocked": "true"}, ["12 Magazine St"]),
        ({"knocked": "false"}, ["101 Brattle St", "14 Magazine St", "7 Pleasant St"]),
        ({"has_people": "true", "street": "Magazine St"}, ["12 Magazine St", "14 Magazine St"]),
        ({"is_final": "true"}, []),
    ],
)
def test_it_filters_doors(universe, director, campaign, client_for, params, expected):
    assert addresses(client_for(director).get(url(campaign), params)) == expected


def test_it_filters_doors_by_district_id(universe, director, campaign, client_for):
    response = client_for(director).get(url(campaign), {"district": universe.ward2.pk})
    assert addresses(response) == ["101 Brattle St"]
    # Another organization's district id matches nothing here.
    response = client_for(director).get(url(campaign), {"district": universe.outsider_district.pk})
    assert addresses(response) == []


def test_it_filters_doors_by_turf_of_this_campaign_only(universe, director, campaign, client_for):
    response = client_for(director).get(url(campaign), {"turf": universe.other_turf.pk})
    assert addresses(response) == ["7 Pleasant St"]
    response = client_for(director).get(url(campaign), {"turf": universe.outsider_turf.pk})
    assert addresses(response) == []


def test_it_lists_doors_without_residents(universe, director, org, campaign, client_for):
    household_make(org, number="3", street="Empty Ln")
    assert addresses(client_for(director).get(url(campaign), {"has_people": "false"})) == [
        "3 Empty Ln"
    ]


def test_it_lists_doors_changed_since_a_time(universe, director, campaign, client_for):
    cutoff = timezone.now()
    Household.objects.filter(pk=universe.loose_door.pk).update(
        updated_at=cutoff + timedelta(seconds=5)
    )
    response = client_for(director).get(url(campaign), {"updated_since": cutoff.isoformat()})
    assert addresses(response) == ["101 Brattle St"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"district": "ward-nine"}, "district"),
        ({"turf": "x"}, "turf"),
        ({"page_size": "0", "district": "a"}, "district"),
    ],
)
def test_it_rejects_bad_filter_values(universe, director, campaign, client_for, params, field):
    response = client_for(director).get(url(campaign), params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]


def test_it_answers_404_for_a_page_past_the_end(universe, director, campaign, client_for):
    response = client_for(director).get(url(campaign), {"page": 9})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_it_pages_doors(universe, director, campaign, client_for):
    body = client_for(director).get(url(campaign), {"page_size": 3}).json()
    assert body["count"] == 4 and len(body["results"]) == 3 and "page=2" in body["next"]


def test_it_lists_doors_in_constant_queries(
    universe, director, org, campaign, canvasser, client_for, django_assert_num_queries
):
    client = client_for(director)
    # token + membership + count + page + districts prefetch + results prefetch; the people
    # count is a subquery. Must not grow with doors, districts, residents or results.
    with django_assert_num_queries(6):
        assert client.get(url(campaign)).json()["count"] == 4
    for _ in range(15):
        door = household_make(org, street="Extra St")
        door.districts.add(universe.ward9, universe.ward2)
        person_make(org, household=door)
        knock(campaign, door, canvasser, code="not_home")
    with django_assert_num_queries(6):
        assert client.get(url(campaign)).json()["count"] == 19


def test_it_lists_an_organizers_doors_in_constant_queries(
    universe, organizer, campaign, client_for, django_assert_num_queries
):
    client = client_for(organizer)
    with django_assert_num_queries(6):  # same plan as the director's: scope is a subquery
        assert client.get(url(campaign)).json()["count"] == 2


def test_it_serves_the_browsable_api_with_session_auth(universe, director, campaign, client):
    client.force_login(director)
    response = client.get(url(campaign), {"street": "Brattle St"}, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"101 Brattle St" in response.content and b"Pleasant" not in response.content
