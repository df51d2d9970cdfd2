"""Security acceptance: tenancy and role scoping over EVERY object route of the API.

The routes are discovered from the URL resolver, so a route added later is covered without
editing this file: each `<int:...>` URL parameter is filled with the id of an object the caller
must not reach. To cover a route with a new parameter name, add a builder to `FOREIGN`,
`SIBLING` and `OWN` below (the first test fails until you do).

DESIGN.md §2: an object of another organization or campaign answers 404, never 403, never
data, whatever the method, and a refused write stores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from canvass.models import ImportRowIssue, ImportRun, Role
from canvass.services import membership_grant
from tests.universe.world import assign, turf_make, universe_build
from turf.models import CutRun, MapLayer

METHODS = ("get", "post", "put", "patch", "delete")
PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def _methods(pattern: URLPattern) -> list[str]:
    view = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
    return [m for m in METHODS if view is not None and hasattr(view, m)]


API_ROUTES = [
    (route, pattern)
    for route, pattern in _walk(get_resolver().url_patterns)
    if route.startswith("api/") and not route.startswith(("api/schema", "api/docs"))
]
# Object routes: every API route with an id in its path (a campaign, a turf, a door...).
OBJECT_ROUTES = [(route, p) for route, p in API_ROUTES if PARAM.search(route)]
OBJECT_CASES = [
    pytest.param(route, method, id=f"{method.upper()} {route}")
    for route, pattern in OBJECT_ROUTES
    for method in _methods(pattern)
]
GET_CASES = [
    pytest.param(route, id=route) for route, pattern in API_ROUTES if "get" in _methods(pattern)
]

Builder = Callable[[SimpleNamespace], Any]

# Objects of ANOTHER organization (its campaign, turfs, universe...).
FOREIGN: dict[str, Builder] = {
    "campaign_id": lambda w: w.outsider_campaign.pk,
    "turf_id": lambda w: w.u.outsider_turf.pk,
    "assignment_id": lambda w: w.u.outsider_turf.assignments.get().pk,
    "district_id": lambda w: w.u.outsider_district.pk,
    "household_id": lambda w: w.u.outsider_door.pk,
    "person_id": lambda w: w.u.outsider_person.pk,
    "import_id": lambda w: w.outsider_import.pk,
    "run_id": lambda w: w.outsider_import.pk,
    "cut_id": lambda w: w.outsider_cut.pk,
    "layer_id": lambda w: w.outsider_layer.pk,
    "script_id": lambda w: w.outsider_campaign.scripts.first().pk,
    "result_code_id": lambda w: w.outsider_campaign.result_codes.first().pk,
}
# Objects of a SIBLING campaign of the caller's own organization (same universe).
SIBLING: dict[str, Builder] = {
    **FOREIGN,
    "campaign_id": lambda w: w.sibling_campaign.pk,
    "turf_id": lambda w: w.sibling_turf.pk,
    "assignment_id": lambda w: w.sibling_turf.assignments.get().pk,
    "district_id": lambda w: w.u.ward9.pk,
    "household_id": lambda w: w.u.team_doors[0].pk,
    "person_id": lambda w: w.u.team_people[0].pk,
    "script_id": lambda w: w.sibling_campaign.scripts.first().pk,
    "result_code_id": lambda w: w.sibling_campaign.result_codes.first().pk,
}
# The caller's own objects (for the viewer PII sweep).
OWN: dict[str, Builder] = {
    **FOREIGN,
    "campaign_id": lambda w: w.campaign.pk,
    "turf_id": lambda w: w.u.team_turf.pk,
    "assignment_id": lambda w: w.u.team_turf.assignments.get().pk,
    "district_id": lambda w: w.u.ward9.pk,
    "household_id": lambda w: w.u.team_doors[0].pk,
    "person_id": lambda w: w.u.team_people[0].pk,
    "script_id": lambda w: w.campaign.scripts.first().pk,
    "result_code_id": lambda w: w.campaign.result_codes.first().pk,
    "import_id": lambda w: w.own_import.pk,
    "run_id": lambda w: w.own_import.pk,
}


def build(route: str, world: SimpleNamespace, builders: dict[str, Builder]) -> str:
    return "/" + PARAM.sub(lambda m: str(builders[m.group("name")](world)), route)


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in {"canvass", "turf"}
    }


@pytest.fixture
def world(
    org, campaign, sibling_campaign, canvasser, other_canvasser, outsider_org,
    outsider_campaign, outsider, make_user, director, organizer, viewer,
) -> SimpleNamespace:  # fmt: skip
    outsider_canvasser = make_user("outsider_canvasser")
    membership_grant(campaign=outsider_campaign, user=outsider_canvasser, role=Role.CANVASSER)
    u = universe_build(
        org=org,
        campaign=campaign,
        team_canvasser=canvasser,
        other_canvasser=other_canvasser,
        outsider_org=outsider_org,
        outsider_campaign=outsider_campaign,
        outsider_canvasser=outsider_canvasser,
    )
    sibling_canvasser = make_user("sibling_canvasser")
    membership_grant(campaign=sibling_campaign, user=sibling_canvasser, role=Role.CANVASSER)
    sibling_turf = turf_make(sibling_campaign, [u.loose_door], list_number="T-SIB")
    assign(sibling_turf, sibling_canvasser)
    # Unmatched voter-file rows hold PII too: a viewer must not download them.
    own_import = ImportRun.objects.create(organization=org, kind="voters", source_name="v.csv")
    ImportRowIssue.objects.create(
        run=own_import,
        row_number=2,
        code="unmatched_address",
        message="No door at 12 Magazine St",
        raw={"first_name": "Alma", "last_name": "Quintero", "street": "Magazine St"},
    )
    return SimpleNamespace(
        u=u,
        own_import=own_import,
        campaign=campaign,
        sibling_campaign=sibling_campaign,
        sibling_turf=sibling_turf,
        outsider_campaign=outsider_campaign,
        outsider_import=ImportRun.objects.create(organization=outsider_org, kind="voters"),
        outsider_cut=CutRun.objects.create(campaign=outsider_campaign),
        outsider_layer=MapLayer.objects.create(
            organization=outsider_org, kind="rail", name="Outsider rail", features={}
        ),
    )


def call(client, method: str, path: str):
    if method in {"get", "delete"}:
        return getattr(client, method)(path)
    return getattr(client, method)(path, {}, format="json")


def assert_not_found(response, world: SimpleNamespace) -> None:
    assert response.status_code == 404, (response.status_code, response.content[:300])
    assert response.json()["error"]["code"] == "not_found"
    body = response.content.decode()
    for secret in ["Other Campaign", "Zanzibar", "Xerxesdottir", "Ottoline", "T-OUT", "T-SIB"]:
        assert secret not in body


def test_it_knows_how_to_fill_every_id_of_every_object_route():
    missing = {
        m.group("name")
        for route, _ in OBJECT_ROUTES
        for m in PARAM.finditer(route)
        if m.group("name") not in FOREIGN
    }
    assert not missing, f"add builders for {missing} to FOREIGN/SIBLING/OWN in this file"
    converters = {m.group("converter") for r, _ in OBJECT_ROUTES for m in PARAM.finditer(r)}
    assert converters <= {"int"}, converters


def test_it_covers_the_universe_routes():
    routes = {route for route, _ in OBJECT_ROUTES}
    assert {
        "api/campaigns/<int:campaign_id>/",
        "api/campaigns/<int:campaign_id>/districts/<int:district_id>/",
        "api/campaigns/<int:campaign_id>/households/<int:household_id>/",
        "api/campaigns/<int:campaign_id>/people/<int:person_id>/",
    } <= routes


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "method"), OBJECT_CASES)
def test_it_answers_404_for_another_organizations_objects(
    world, director, client_for, route, method
):
    client = client_for(director)
    before = row_counts()
    response = call(client, method, build(route, world, FOREIGN))
    assert_not_found(response, world)
    assert row_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("route", "method"),
    [c for c in OBJECT_CASES if c.values[0].count("<") > 1 and "<int:campaign_id>" in c.values[0]],
)
def test_it_answers_404_for_foreign_objects_inside_the_own_campaign(
    world, director, client_for, route, method
):
    # The caller's campaign is real and theirs; only the object belongs to someone else.
    builders = {**FOREIGN, "campaign_id": lambda w: w.campaign.pk}
    before = row_counts()
    response = call(client_for(director), method, build(route, world, builders))
    assert_not_found(response, world)
    assert row_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "method"), OBJECT_CASES)
def test_it_answers_404_for_a_sibling_campaigns_objects(world, director, client_for, route, method):
    before = row_counts()
    response = call(client_for(director), method, build(route, world, SIBLING))
    assert_not_found(response, world)
    assert row_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("route", GET_CASES)
def test_it_never_sends_voter_pii_to_a_viewer(world, viewer, client_for, route):
    response = client_for(viewer).get(build(route, world, OWN))
    assert response.status_code < 500
    raw = response.content
    for secret in world.u.pii:
        assert secret.encode() not in raw, (secret, route)


@pytest.mark.django_db
def test_it_lets_a_viewer_see_aggregates(world, viewer, client_for):
    client = client_for(viewer)
    campaign_id = world.campaign.pk
    assert client.get(f"/api/campaigns/{campaign_id}/").status_code == 200
    districts = client.get(f"/api/campaigns/{campaign_id}/districts/")
    assert districts.status_code == 200
    counts = {
        f["properties"]["name"]: f["properties"]["household_count"]
        for f in districts.json()["features"]
    }
    assert counts == {"Ward 9": 3, "Precinct 9-3": 2, "Ward 2": 1}


@pytest.mark.django_db
@pytest.mark.parametrize("resource", ["households", "people"])
def test_it_refuses_to_list_the_voter_universe_to_a_canvasser(
    world, canvasser, client_for, resource
):
    response = client_for(canvasser).get(f"/api/campaigns/{world.campaign.pk}/{resource}/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "universe_forbidden"
    for secret in world.u.pii:
        assert secret.encode() not in response.content


@pytest.mark.django_db
def test_it_gives_a_canvasser_the_district_map_without_pii(world, canvasser, client_for):
    response = client_for(canvasser).get(f"/api/campaigns/{world.campaign.pk}/districts/")
    assert response.status_code == 200
    for secret in world.u.pii:
        assert secret.encode() not in response.content


@pytest.mark.django_db
def test_it_limits_an_organizer_to_the_team_doors(world, organizer, client_for):
    client = client_for(organizer)
    doors = client.get(f"/api/campaigns/{world.campaign.pk}/households/").json()["results"]
    assert sorted(d["id"] for d in doors) == sorted(h.pk for h in world.u.team_doors)
    people = client.get(f"/api/campaigns/{world.campaign.pk}/people/").json()["results"]
    assert sorted(p["id"] for p in people) == sorted(p.pk for p in world.u.team_people)
    for hidden in [world.u.other_door, world.u.loose_door]:
        response = client.get(f"/api/campaigns/{world.campaign.pk}/households/{hidden.pk}/")
        assert response.status_code == 404
