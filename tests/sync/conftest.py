"""Fixtures for sync tests: a published turf with households in walk order, people, and an
assignment of it to the `canvasser` of the fixed cast."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from canvass.models import Campaign, Person
from tests.factories import household_make, person_make, square
from turf.models import Assignment, Household, Turf, TurfDoor, TurfStatus

_list_numbers = itertools.count(1)

# A fixed "now" for merge tests: device times are stated relative to it.
NOW = datetime(2024, 10, 5, 18, 0, tzinfo=UTC)


def turf_make(
    campaign: Campaign,
    *,
    doors: int = 5,
    people_per_door: int = 1,
    status: str = TurfStatus.PUBLISHED,
    lon: float = -71.115,
    lat: float = 42.375,
) -> Turf:
    """A turf with `doors` households (walk order = creation order) and their people."""
    org = campaign.organization
    n = next(_list_numbers)
    turf = Turf.objects.create(
        campaign=campaign,
        name=f"Turf {n}",
        list_number=f"T{uuid.uuid4().hex[:8].upper()}" if status != TurfStatus.DRAFT else None,
        status=status,
        door_count=doors,
        polygon=square(lon - 0.001, lat - 0.001, 0.01),
        published_at=timezone.now() if status != TurfStatus.DRAFT else None,
    )
    households = [
        household_make(org, lon=lon + i * 0.0001, lat=lat, street="Magazine St")
        for i in range(doors)
    ]
    TurfDoor.objects.bulk_create(
        [TurfDoor(turf=turf, household=h, position=i) for i, h in enumerate(households)]
    )
    for h in households:
        for _ in range(people_per_door):
            person_make(org, household=h)
    return turf


def assign(
    turf: Turf,
    user: Any,
    *,
    start: datetime | None = None,
    expires: datetime | None = None,
    ended: datetime | None = None,
) -> Assignment:
    return Assignment.objects.create(
        campaign=turf.campaign,
        turf=turf,
        canvasser=user,
        created_at=start or timezone.now() - timedelta(days=1),
        expires_at=expires,
        ended_at=ended,
    )


def doors_of(turf: Turf) -> list[Household]:
    return [td.household for td in turf.turf_doors.select_related("household").order_by("position")]


def people_at(household: Household) -> list[Person]:
    return list(Person.objects.filter(household=household).order_by("pk"))


@pytest.fixture
def turf(campaign) -> Turf:
    return turf_make(campaign, doors=5)


@pytest.fixture
def assigned_turf(turf, canvasser) -> Turf:
    assign(turf, canvasser)
    return turf


@pytest.fixture
def contact_item() -> Callable[..., dict[str, Any]]:
    """A valid contact item for a household; override any field with keywords."""

    def make(household: Household, **extra: Any) -> dict[str, Any]:
        item: dict[str, Any] = {
            "kind": "contact",
            "id": str(uuid.uuid4()),
            "household": household.pk,
            "result_code": "not_home",
            "device_time": (timezone.now() - timedelta(minutes=5)).isoformat(),
        }
        item.update(extra)
        return {k: v for k, v in item.items() if v is not ...}

    return make


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rendered packets are cached by turf and ETag: start every test with none (ids repeat
    across tests when the database is rolled back)."""
    cache.clear()
    yield
    cache.clear()
