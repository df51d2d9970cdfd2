"""The turf list (scoping, filters, query count) and the SVG map."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.turfs.conftest import cut_drafts, grid_make
from turf.models import LayerKind, MapLayer, Turf
from turf.services import turfs as services

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.django_db
def test_it_lists_the_campaigns_turfs_with_filters(
    director, campaign, sibling_campaign, org, grid, drafts, client_for
):
    services.turf_publish(turf=drafts[0])
    other_grid = grid_make(org, name="Precinct 2-2")
    cut_drafts(campaign, other_grid, n_turfs=2)
    theirs = cut_drafts(sibling_campaign, grid, n_turfs=2)  # same doors, other campaign
    client = client_for(director)

    everything = client.get(f"/api/campaigns/{campaign.pk}/turfs/").json()
    assert everything["count"] == 6
    assert not {t["id"] for t in everything["results"]} & {t.pk for t in theirs}

    published = client.get(f"/api/campaigns/{campaign.pk}/turfs/?status=published").json()
    assert [t["id"] for t in published["results"]] == [drafts[0].pk]
    in_district = client.get(
        f"/api/campaigns/{campaign.pk}/turfs/?district={other_grid.district.pk}&status=draft"
    ).json()
    assert in_district["count"] == 2
    assert {t["district_id"] for t in in_district["results"]} == {other_grid.district.pk}
    row = published["results"][0]
    assert set(row) == {
        "id", "name", "list_number", "status", "version", "door_count", "district_id",
        "cut_run_id", "parent_id", "polygon", "metrics", "created_at", "updated_at",
        "published_at", "archived_at",
    }  # fmt: skip


@pytest.mark.parametrize("district", ["99999999999999999999", "2.5", "d1"])
def test_it_answers_400_for_a_district_filter_that_is_not_an_id(
    director, campaign, client_for, district
):
    response = client_for(director).get(f"/api/campaigns/{campaign.pk}/turfs/?district={district}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["fields"])) == ("invalid", ["district"])


@pytest.mark.django_db
def test_it_lists_turfs_in_constant_queries(
    director, campaign, org, grid, client_for, django_assert_num_queries
):
    cut_drafts(campaign, grid, n_turfs=4)
    client = client_for(director)
    # token auth, membership, count, page: the same whatever the number of turfs (no N+1).
    with django_assert_num_queries(4):
        small = client.get(f"/api/campaigns/{campaign.pk}/turfs/")
    cut_drafts(campaign, grid_make(org, name="Precinct 3-3"), n_turfs=8)
    with django_assert_num_queries(4):
        big = client.get(f"/api/campaigns/{campaign.pk}/turfs/")
    assert (small.json()["count"], big.json()["count"]) == (4, 12)


@pytest.mark.django_db
def test_it_shows_canvassers_only_their_assigned_turfs(canvasser, campaign, drafts, client_for):
    mine = services.turf_publish(turf=drafts[0])
    services.turf_publish(turf=drafts[1])  # published, but not theirs
    services.assignment_create(turf=mine, canvasser_ids=[canvasser.pk])
    client = client_for(canvasser)
    listed = client.get(f"/api/campaigns/{campaign.pk}/turfs/").json()
    assert [t["id"] for t in listed["results"]] == [mine.pk]
    assert client.get(f"/api/turfs/{mine.pk}/").json()["household_ids"] is None
    assert client.get(f"/api/turfs/{drafts[1].pk}/").status_code == 404
    assert client.get(f"/api/turfs/{drafts[2].pk}/").status_code == 404


@pytest.mark.django_db
def test_it_shows_viewers_turf_summaries_without_door_ids(viewer, campaign, drafts, client_for):
    client = client_for(viewer)
    assert client.get(f"/api/campaigns/{campaign.pk}/turfs/").json()["count"] == 4
    detail = client.get(f"/api/turfs/{drafts[0].pk}/").json()
    assert detail["household_ids"] is None
    assert detail["door_count"] == drafts[0].door_count
    assert client.post(f"/api/turfs/{drafts[0].pk}/publish/").status_code == 403
    assert client.get(f"/api/turfs/{drafts[0].pk}/assignments/").status_code == 403
    assert Turf.objects.filter(status="published").count() == 0


@pytest.mark.django_db
def test_it_answers_404_for_turfs_of_another_campaign(
    director, outsider, campaign, outsider_campaign, drafts, client_for
):
    client = client_for(outsider)
    for path in ("", "publish/", "split/", "assignments/", "revise/"):
        method = client.get if path in ("", "assignments/") else client.post
        response = method(f"/api/turfs/{drafts[0].pk}/{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/campaigns/{campaign.pk}/turfs/").status_code == 404
    assert Turf.objects.get(pk=drafts[0].pk).status == "draft"


@pytest.mark.django_db
def test_it_renders_the_district_map_as_valid_svg(viewer, campaign, org, grid, drafts, client_for):
    services.turf_publish(turf=drafts[0])
    drafts[1].name = 'Evil <script>alert("x")</script> & co'
    drafts[1].save()
    MapLayer.objects.create(
        organization=org,
        kind=LayerKind.RAIL,
        name="Fitchburg <line>",
        features={
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[-71.13, 42.375], [-71.10, 42.376]],
                    },
                }
            ],
        },
        feature_count=1,
    )
    response = client_for(viewer).get(
        f"/api/campaigns/{campaign.pk}/turfs/map.svg?district={grid.district.pk}"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    text = response.content.decode()
    root = ET.fromstring(response.content)  # valid XML, or this raises
    assert root.tag == f"{SVG}svg"
    turfs = [p for p in root.iter(f"{SVG}path") if p.get("class") == "turf"]
    assert len(turfs) == 4
    assert len({p.get("fill") for p in turfs}) == 4  # distinct colours
    labels = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    published = Turf.objects.get(status="published")
    assert published.list_number in labels
    assert f"{published.door_count} doors" in labels
    # Drafts are labelled D<id> on the map; their user-typed name is in the tooltip, escaped.
    tooltips = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}title"))
    assert 'Evil <script>alert("x")</script> & co' in tooltips
    assert 'Evil <script>alert("x")</script> & co' not in labels
    assert "<script>" not in text
    assert [g.get("data-kind") for g in root.iter(f"{SVG}g")] == ["rail"]


@pytest.mark.django_db
def test_it_draws_no_turf_of_another_district_on_the_map(
    director, campaign, org, grid, drafts, client_for
):
    other = grid_make(org, name="Precinct 4-4")
    cut_drafts(campaign, other, n_turfs=2)
    root = ET.fromstring(
        client_for(director)
        .get(f"/api/campaigns/{campaign.pk}/turfs/map.svg?district={grid.district.pk}")
        .content
    )
    ids = {int(p.get("data-turf-id")) for p in root.iter(f"{SVG}path") if p.get("class") == "turf"}
    assert ids == {t.pk for t in drafts}


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "?district=abc", "?district=999999"])
def test_it_answers_404_for_a_missing_map_district(director, campaign, query, client_for):
    response = client_for(director).get(f"/api/campaigns/{campaign.pk}/turfs/map.svg{query}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_it_refuses_the_map_of_another_organizations_district(
    director, outsider_org, campaign, client_for
):
    theirs = grid_make(outsider_org, name="Theirs")
    response = client_for(director).get(
        f"/api/campaigns/{campaign.pk}/turfs/map.svg?district={theirs.district.pk}"
    )
    assert response.status_code == 404
