"""A small world for the WatermelonDB protocol: two published turfs of the campaign (A is
assigned to the canvasser, B to nobody), doors with residents, and a turf of the sibling
campaign over the same universe (must never leak)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from canvass.models import Campaign, Person
from tests.factories import household_make, person_make, square
from turf.models import Assignment, Household, Turf, TurfDoor

DEVICE = "device-a1"


def turf_make(campaign: Campaign, households: list[Household], list_number: str) -> Turf:
    turf = Turf.objects.create(
        campaign=campaign,
        name=f"Turf {list_number}",
        list_number=list_number,
        status="published",
        door_count=len(households),
        polygon=square(-71.12, 42.37),
        published_at=timezone.now(),
    )
    TurfDoor.objects.bulk_create(
        [TurfDoor(turf=turf, household=h, position=i) for i, h in enumerate(households)]
    )
    return turf


def assign(turf: Turf, user, *, ago: timedelta = timedelta(hours=1), **extra) -> Assignment:
    return Assignment.objects.create(
        campaign=turf.campaign,
        turf=turf,
        canvasser=user,
        created_at=timezone.now() - ago,
        **extra,
    )


@dataclass
class World:
    turf_a: Turf
    turf_b: Turf
    sibling_turf: Turf
    doors_a: list[Household]
    doors_b: list[Household]
    people_a: list[Person]
    people_b: list[Person]
    assignment: Assignment


@pytest.fixture
def world(org, campaign, sibling_campaign, canvasser, director) -> World:
    doors_a = [household_make(org, street="Magazine St") for _ in range(3)]
    doors_b = [household_make(org, street="Putnam Ave") for _ in range(2)]
    people_a = [person_make(org, household=h) for h in doors_a]
    people_b = [person_make(org, household=h) for h in doors_b]
    turf_a = turf_make(campaign, doors_a, "A-1")
    turf_b = turf_make(campaign, doors_b, "B-1")
    sibling_turf = turf_make(sibling_campaign, doors_b, "S-1")
    assignment = assign(turf_a, canvasser)
    return World(turf_a, turf_b, sibling_turf, doors_a, doors_b, people_a, people_b, assignment)


@pytest.fixture
def pull(client_for, campaign):
    """GET /api/sync/pull/ as `user`; returns the response."""

    def do(user, last_pulled_at=None, device=DEVICE, **params):
        query = {"campaign_id": campaign.pk, **params}
        query["last_pulled_at"] = "null" if last_pulled_at is None else last_pulled_at
        return client_for(user).get("/api/sync/pull/", query, HTTP_X_DEVICE_ID=device)

    return do


@pytest.fixture
def push(client_for, campaign):
    def do(user, changes, last_pulled_at, device=DEVICE, **body_extra):
        body = {"changes": changes, "last_pulled_at": last_pulled_at, **body_extra}
        return client_for(user).post(
            f"/api/sync/push/?campaign_id={campaign.pk}",
            body,
            format="json",
            HTTP_X_DEVICE_ID=device,
        )

    return do


def ids(body, table, op):
    return [r if isinstance(r, str) else r["id"] for r in body["changes"][table][op]]
