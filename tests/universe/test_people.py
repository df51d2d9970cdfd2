from __future__ import annotations

import pytest

from canvass.models import Person
from tests.factories import household_make, person_make
from tests.universe.world import knock

pytestmark = pytest.mark.django_db


def url(campaign, suffix: str = "") -> str:
    return f"/api/campaigns/{campaign.pk}/people/{suffix}"


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [f"{p['first_name']} {p['last_name']}" for p in response.json()["results"]]


def test_it_lists_the_organizations_people_to_the_director(
    universe, director, campaign, client_for
):
    response = client_for(director).get(url(campaign))
    # By last name; "Ottoline Xerxesdottir" of the other organization never appears.
    assert names(response) == [
        "Cosima Feldstein",
        "Evander Lindqvist",
        "Bertrand Okonkwo",
        "Alma Quintero",
        "Dagny Vasquez",
    ]
    alma = universe.team_people[0]
    body = response.json()["results"][3]
    assert body == {
        "id": alma.pk,
        "external_voter_id": alma.external_voter_id,
        "first_name": "Alma",
        "middle_name": "",
        "last_name": "Quintero",
        "suffix": "",
        "party": "D",
        "phone": "6175550101",
        "email": "alma@example.org",
        "year_of_birth": 1961,
        "language": "",
        "registration_status": "registered",
        "is_deceased": False,
        "has_moved": False,
        "source": "voter_file",
        "household": {
            "id": universe.team_doors[0].pk,
            "address": "12 Magazine St",
            "house_number": "12",
            "street": "Magazine St",
            "unit": "",
            "city": "Cambridge",
            "zip_code": "",
            "lon": -71.115,
            "lat": 42.365,
        },
        "supporter_score": 2,
        "updated_at": body["updated_at"],
    }


def test_it_shows_the_supporter_score_of_this_campaign_only(
    universe, director, campaign, sibling_campaign, other_canvasser, client_for
):
    knock(
        sibling_campaign,
        universe.loose_door,
        other_canvasser,
        code="canvassed",
        person=universe.loose_person,
        score=5,
    )
    response = client_for(director).get(url(campaign, f"{universe.loose_person.pk}/"))
    assert response.status_code == 200
    assert response.json()["supporter_score"] is None


def test_it_lists_only_residents_of_team_turfs_to_an_organizer(
    universe, organizer, campaign, client_for
):
    assert names(client_for(organizer).get(url(campaign))) == [
        "Cosima Feldstein",
        "Bertrand Okonkwo",
        "Alma Quintero",
    ]


def test_it_hides_other_residents_from_an_organizer(universe, organizer, campaign, client_for):
    response = client_for(organizer).get(url(campaign, f"{universe.other_person.pk}/"))
    assert response.status_code == 404
    assert "Vasquez" not in response.content.decode()


def test_it_lists_people_without_a_household_to_the_director_only(
    universe, director, organizer, org, campaign, client_for
):
    person_make(org, first_name="Hollis", last_name="Aardvark")
    assert names(client_for(director).get(url(campaign)))[0] == "Hollis Aardvark"
    assert "Hollis Aardvark" not in names(client_for(organizer).get(url(campaign)))


@pytest.mark.parametrize("role", ["canvasser", "viewer"])
@pytest.mark.parametrize("suffix", ["", "person"])
def test_it_refuses_people_to_canvassers_and_viewers(
    universe, campaign, client_for, request, role, suffix
):
    user = request.getfixturevalue(role)
    path = url(campaign, f"{universe.team_people[0].pk}/" if suffix else "")
    response = client_for(user).get(path)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "universe_forbidden"
    assert "Quintero" not in response.content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"party": "D"}, ["Alma Quintero"]),
        ({"party": ["D", "R"]}, ["Bertrand Okonkwo", "Alma Quintero"]),
        ({"registration_status": "inactive"}, ["Bertrand Okonkwo"]),
        ({"has_phone": "false"}, ["Cosima Feldstein"]),
        ({"has_phone": "true", "street": "Magazine St"}, ["Bertrand Okonkwo", "Alma Quintero"]),
        ({"has_email": "true"}, ["Alma Quintero"]),
        ({"q": "alm"}, ["Alma Quintero"]),
        ({"q": "QUINTERO alma"}, ["Alma Quintero"]),
        ({"q": "alma okonkwo"}, []),
        ({"q": "brattle"}, ["Evander Lindqvist"]),
        ({"street": "pleasant st"}, ["Dagny Vasquez"]),
        ({"precinct": "9-3"}, ["Cosima Feldstein", "Bertrand Okonkwo", "Alma Quintero"]),
        ({"ward": "2"}, ["Evander Lindqvist"]),
        ({"supporter_score": "2"}, ["Alma Quintero"]),
        ({"supporter_score": ["4", "5"]}, []),
        ({"born_from": "1960", "born_to": "1970"}, ["Alma Quintero"]),
        ({"born_from": "1962"}, []),
    ],
)
def test_it_filters_people(universe, director, campaign, client_for, params, expected):
    assert names(client_for(director).get(url(campaign), params)) == expected


def test_it_filters_people_by_household_and_voter_id(universe, director, campaign, client_for):
    client = client_for(director)
    by_door = client.get(url(campaign), {"household": universe.team_doors[1].pk})
    assert names(by_door) == ["Cosima Feldstein"]
    voter_id = universe.other_person.external_voter_id
    assert names(client.get(url(campaign), {"external_voter_id": voter_id})) == ["Dagny Vasquez"]
    assert names(client.get(url(campaign), {"q": voter_id})) == ["Dagny Vasquez"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"party": "X"}, "party"),
        ({"registration_status": "alive"}, "registration_status"),
        ({"supporter_score": "9"}, "supporter_score"),
        ({"updated_since": "2024-13-45"}, "updated_since"),
        ({"born_from": "old"}, "born_from"),
        # Past the column's range: these overflowed the database driver (a 500) before.
        ({"born_to": "99999999999999999999"}, "born_to"),
        ({"born_from": "1e300"}, "born_from"),
        ({"household": "99999999999999999999"}, "household"),
        ({"household": "1.5"}, "household"),
        ({"district": "-6.05e229"}, "district"),
        ({"turf": "99999999999999999999"}, "turf"),
    ],
)
def test_it_rejects_bad_people_filters(universe, director, campaign, client_for, params, field):
    response = client_for(director).get(url(campaign), params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == [field]


def test_it_lists_people_in_constant_queries(
    universe, director, org, campaign, canvasser, client_for, django_assert_num_queries
):
    client = client_for(director)
    # token + membership + count + page: household joined, supporter score a subquery.
    with django_assert_num_queries(4):
        assert client.get(url(campaign)).json()["count"] == 5
    for _ in range(15):
        door = household_make(org, street="Extra St")
        person = person_make(org, household=door)
        knock(campaign, door, canvasser, code="canvassed", person=person, score=1)
    with django_assert_num_queries(4):
        assert client.get(url(campaign)).json()["count"] == 20
    assert Person.objects.filter(supporter_scores__campaign=campaign).count() == 16
