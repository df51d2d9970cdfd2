"""GET /api/turfs/{id}/packet/: the offline packet of one turf."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from canvass.access import membership_require
from canvass.models import Campaign, Person, Question, ResultCode
from canvass.services import script_create
from canvass.sync.merge import sync_items_merge
from canvass.sync.packets import packet_json, turf_packet_build
from tests.sync.conftest import assign, doors_of, people_at, turf_make
from turf.models import Household

pytestmark = pytest.mark.django_db


def url(turf) -> str:
    return f"/api/turfs/{turf.pk}/packet/"


def test_it_returns_the_households_in_walk_order_with_people_script_and_codes(
    assigned_turf, canvasser, client_for
):
    door = doors_of(assigned_turf)[0]
    person = people_at(door)[0]

    response = client_for(canvasser).get(url(assigned_turf))

    assert response.status_code == 200
    body = response.json()
    assert body["turf"] == {
        "id": assigned_turf.pk,
        "campaign_id": assigned_turf.campaign_id,
        "name": assigned_turf.name,
        "list_number": assigned_turf.list_number,
        "version": 1,
        "status": "published",
        "door_count": 5,
        "polygon": assigned_turf.polygon,
    }
    assert [h["id"] for h in body["households"]] == [d.pk for d in doors_of(assigned_turf)]
    assert [h["position"] for h in body["households"]] == [0, 1, 2, 3, 4]
    assert body["households"][0] == {
        "id": door.pk,
        "position": 0,
        "house_number": door.house_number,
        "street": "Magazine St",
        "unit": "",
        "city": "Cambridge",
        "zip_code": "",
        "lon": door.lon,
        "lat": door.lat,
        "building_key": door.building_key,
        "is_final": False,
        "final_reason": "",
        "last_result": None,
        "people": [
            {
                "id": person.pk,
                "first_name": person.first_name,
                "middle_name": "",
                "last_name": person.last_name,
                "suffix": "",
                "year_of_birth": None,
                "language": "",
                "registration_status": "registered",
                "is_deceased": False,
                "has_moved": False,
                "source": "voter_file",
            }
        ],
    }
    # Phone and party stay on the server unless the campaign shares them.
    assert (body["show_phone"], body["show_party"]) == (False, False)
    assert "phone" not in json.dumps(body["households"])
    assert "external_voter_id" not in response.content.decode()
    assert [c["code"] for c in body["result_codes"]][:3] == ["canvassed", "not_home", "refused"]
    [question] = body["script"]["questions"]
    assert question["key"] == "supporter_id"
    assert [o["value"] for o in question["options"]] == ["1", "2", "3", "4", "5"]


def test_it_shows_phone_and_party_when_the_campaign_allows(
    assigned_turf, canvasser, client_for, campaign
):
    campaign.show_phone_to_canvassers = True
    campaign.show_party_to_canvassers = True
    campaign.save()
    person = people_at(doors_of(assigned_turf)[0])[0]

    body = client_for(canvasser).get(url(assigned_turf)).json()

    first = body["households"][0]["people"][0]
    assert (first["phone"], first["party"]) == (person.phone, person.party)


def test_it_includes_show_if_branching(assigned_turf, canvasser, client_for, campaign):
    script_create(
        campaign=campaign,
        name="v2",
        questions=[
            {"key": "volunteer", "prompt": "Volunteer?", "kind": "yes_no"},
            {
                "key": "issue",
                "prompt": "Top issue?",
                "kind": "single_choice",
                "options": [("rent", "Rent"), ("wages", "Wages")],
                "show_if": {"question": "supporter_id", "options": ["1", "2"]},
            },
        ],
    )

    body = client_for(canvasser).get(url(assigned_turf)).json()

    issue = body["script"]["questions"][2]
    assert issue["show_if"] == {"question": "supporter_id", "options": ["1", "2"]}
    assert body["script"]["questions"][1]["show_if"] is None


def test_it_shows_the_last_result_of_each_door(assigned_turf, canvasser, client_for):
    door = doors_of(assigned_turf)[1]
    knocked = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    eastern = knocked.astimezone(timezone.get_fixed_timezone(-240))
    [receipt] = sync_items_merge(
        user=canvasser,
        device_id="d",
        items=[
            {
                "kind": "contact",
                "id": "6f1f3d59-1f0a-4b0c-9d55-0a7d4b3a0c11",
                "household": door.pk,
                "result_code": "refused",
                "device_time": eastern.isoformat(),
            }
        ],
    )
    assert receipt.status == "created", receipt

    body = client_for(canvasser).get(url(assigned_turf)).json()

    assert body["households"][1]["last_result"] == {
        "result_code": "refused",
        "effective_time": knocked.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "attempts": 1,
        "ever_contacted": True,
        "is_final": True,
    }
    assert body["households"][1]["is_final"] is True
    assert body["households"][0]["last_result"] is None


def test_it_answers_304_to_a_matching_etag_and_changes_the_etag_on_any_change(
    assigned_turf, canvasser, client_for, campaign, contact_item
):
    client = client_for(canvasser)
    first = client.get(url(assigned_turf))
    etag = first["ETag"]

    again = client.get(url(assigned_turf), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""

    seen = {etag}
    door = doors_of(assigned_turf)[0]
    changes = [
        lambda: sync_items_merge(user=canvasser, device_id="d", items=[contact_item(door)]),
        lambda: Person.objects.filter(pk=people_at(door)[0].pk).update(first_name="Renamed"),
        lambda: Question.objects.filter(script__campaign=campaign).update(prompt="New prompt"),
        lambda: ResultCode.objects.filter(campaign=campaign, code="hostile").update(label="Rude"),
        lambda: Household.objects.filter(pk=door.pk).update(is_final=True, final_reason="moved"),
        lambda: Person.objects.create(organization=campaign.organization, household=door),
    ]
    for change in changes:
        change()
        response = client.get(url(assigned_turf), HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200
        assert response["ETag"] not in seen
        seen.add(response["ETag"])
        etag = response["ETag"]


def test_it_rebuilds_from_cached_sections_exactly_what_a_fresh_build_gives(
    assigned_turf, canvasser, client_for, campaign, contact_item
):
    # Doors, people, result codes and the script are cached under the fingerprint of what
    # they show: after any change, the body served equals a build from scratch.
    client = client_for(canvasser)
    membership = membership_require(user=canvasser, campaign_id=campaign.pk)
    door = doors_of(assigned_turf)[0]
    person = people_at(door)[0]
    changes = [
        lambda: None,
        lambda: sync_items_merge(user=canvasser, device_id="d", items=[contact_item(door)]),
        lambda: Person.objects.filter(pk=person.pk).update(first_name="Renamed"),
        lambda: Question.objects.filter(script__campaign=campaign).update(prompt="New prompt"),
        lambda: ResultCode.objects.filter(campaign=campaign, code="hostile").update(label="Rude"),
        lambda: Household.objects.filter(pk=door.pk).update(street="Other St"),
        lambda: Person.objects.create(organization=campaign.organization, household=door),
        # Back to an earlier name: the people section of that content is served again.
        lambda: Person.objects.filter(pk=person.pk).update(first_name=person.first_name),
        lambda: Campaign.objects.filter(pk=campaign.pk).update(show_phone_to_canvassers=True),
    ]
    for change in changes:
        change()
        membership.campaign.refresh_from_db()
        response = client.get(url(assigned_turf))
        assert response.status_code == 200
        fresh = packet_json(turf_packet_build(turf=assigned_turf, membership=membership))
        assert response.content == fresh
    body = json.loads(response.content)
    assert body["households"][0]["street"] == "Other St"
    assert body["households"][0]["last_result"]["attempts"] == 1
    assert "phone" in body["households"][0]["people"][0]


def test_it_reads_only_the_door_results_to_rebuild_after_a_knock(
    assigned_turf, canvasser, client_for, contact_item, django_assert_num_queries
):
    client = client_for(canvasser)
    etag = client.get(url(assigned_turf))["ETag"]
    sync_items_merge(
        user=canvasser, device_id="d", items=[contact_item(doors_of(assigned_turf)[0])]
    )

    # Access (4) + the version query + the door results: doors, people, result codes and
    # the script did not change, so they come from the cache.
    with django_assert_num_queries(6):
        response = client.get(url(assigned_turf), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert json.loads(response.content)["households"][0]["last_result"]["attempts"] == 1


def test_it_gzips_the_packet_when_asked(assigned_turf, canvasser, client_for):
    response = client_for(canvasser).get(url(assigned_turf), HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(response.content))
    assert len(body["households"]) == 5
    # The weakened ETag still matches.
    assert (
        client_for(canvasser)
        .get(url(assigned_turf), HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=response["ETag"])
        .status_code
        == 304
    )


@pytest.mark.parametrize("doors", [5, 100])
def test_it_uses_the_same_number_of_queries_whatever_the_turf_size(
    campaign, canvasser, client_for, django_assert_num_queries, doors
):
    turf = turf_make(campaign, doors=doors, people_per_door=2)
    assign(turf, canvasser)
    client = client_for(canvasser)
    # Constant: token auth, turf, membership (with its user), assignment check (access), the
    # version query (the ETag), then the body: doors, people, results, result codes, script,
    # questions, options, show-if links. Never per door.
    with django_assert_num_queries(13):
        response = client.get(url(turf))
    assert len(response.json()["households"]) == doors


@pytest.mark.parametrize("revalidate", [False, True])
def test_it_serves_a_repeat_fetch_from_the_version_query_and_the_cache(
    assigned_turf, canvasser, client_for, django_assert_num_queries, revalidate
):
    client = client_for(canvasser)
    first = client.get(url(assigned_turf))
    headers = {"HTTP_IF_NONE_MATCH": first["ETag"]} if revalidate else {}

    # Access (token, turf, membership with its user, assignment check) + the version query:
    # nothing about the body is read again while nothing in it changed.
    with django_assert_num_queries(5):
        again = client.get(url(assigned_turf), **headers)

    assert again["ETag"] == first["ETag"]
    if revalidate:
        assert (again.status_code, again.content) == (304, b"")
    else:
        assert (again.status_code, again.content) == (200, first.content)


def test_it_checks_access_before_serving_a_cached_packet(turf, canvasser, client_for):
    assignment = assign(turf, canvasser)
    client = client_for(canvasser)
    etag = client.get(url(turf))["ETag"]
    assignment.ended_at = timezone.now()
    assignment.save()

    assert client.get(url(turf)).status_code == 404
    assert client.get(url(turf), HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_it_never_serves_a_directors_cached_packet_to_a_canvasser(
    assigned_turf, canvasser, director, client_for
):
    person = people_at(doors_of(assigned_turf)[0])[0]
    Person.objects.filter(pk=person.pk).update(phone="617-555-0142")
    staff = client_for(director).get(url(assigned_turf))
    assert staff.json()["households"][0]["people"][0]["phone"] == "617-555-0142"

    mine = client_for(canvasser).get(url(assigned_turf), HTTP_IF_NONE_MATCH=staff["ETag"])

    assert mine.status_code == 200
    assert mine["ETag"] != staff["ETag"]
    assert "617-555-0142" not in mine.content.decode()
    assert "phone" not in mine.json()["households"][0]["people"][0]


def test_it_hides_the_packet_from_another_canvasser(assigned_turf, other_canvasser, client_for):
    response = client_for(other_canvasser).get(url(assigned_turf))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_it_hides_the_packet_once_the_assignment_expired(turf, canvasser, client_for):
    assign(
        turf,
        canvasser,
        start=timezone.now() - timedelta(days=3),
        expires=timezone.now() - timedelta(days=1),
    )

    assert client_for(canvasser).get(url(turf)).status_code == 404


@pytest.mark.parametrize(
    ("start", "expires", "ended", "status", "visible"),
    [
        (-1, None, None, "published", True),
        (-1, 1, 1, "published", True),
        (1, None, None, "published", False),  # not started yet
        (-3, None, -1, "published", False),  # ended (reassigned)
        (-3, -1, None, "published", False),  # expired
        (-1, None, None, "draft", False),  # the turf is no longer published
    ],
)
def test_it_serves_the_packet_only_while_the_assignment_is_in_force(
    turf, canvasser, client_for, start, expires, ended, status, visible
):
    def days(n):
        return None if n is None else timezone.now() + timedelta(days=n)

    assign(turf, canvasser, start=days(start), expires=days(expires), ended=days(ended))
    type(turf).objects.filter(pk=turf.pk).update(status=status)

    response = client_for(canvasser).get(url(turf))

    assert response.status_code == (200 if visible else 404)


def test_it_hides_the_packet_from_an_outsider(assigned_turf, outsider, client_for):
    assert client_for(outsider).get(url(assigned_turf)).status_code == 404


def test_it_lets_the_director_fetch_any_packet_of_the_campaign(turf, director, client_for):
    body = client_for(director).get(url(turf)).json()

    assert len(body["households"]) == 5
    assert (body["show_phone"], body["show_party"]) == (True, True)


def test_it_refuses_the_packet_to_a_viewer(assigned_turf, viewer, client_for):
    response = client_for(viewer).get(url(assigned_turf))

    assert response.status_code == 403
    assert "households" not in response.json()


def test_it_gives_an_organizer_their_teams_packets_only(
    campaign, canvasser, other_canvasser, organizer, client_for
):
    team_turf = turf_make(campaign, doors=2)
    assign(team_turf, canvasser)
    other_turf = turf_make(campaign, doors=2)
    assign(other_turf, other_canvasser)
    client = client_for(organizer)

    assert client.get(url(team_turf)).status_code == 200
    assert client.get(url(other_turf)).status_code == 403
