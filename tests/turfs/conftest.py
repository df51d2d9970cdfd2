"""A small real geometry for turf tests: a precinct square in Cambridge, MA with a 6 x 8 grid of
doors (one building each, 4 streets... one street per row), split into two wards at its middle
column, plus helpers to cut and publish through the services."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from canvass.models import Campaign, Organization
from tests.factories import district_make
from turf.models import District, Household, Turf
from turf.services import turfs as services

LON0, LAT0 = -71.12, 42.37
ROWS, COLS = 6, 8
STEP_LON, STEP_LAT = 0.0012, 0.0015


@dataclass
class Grid:
    district: District
    wards: tuple[District, District]
    households: list[Household]

    def at(self, row: int, col: int) -> Household:
        return self.households[row * COLS + col]

    @property
    def ids(self) -> list[int]:
        return [h.pk for h in self.households]


def grid_make(org: Organization, *, name: str = "Precinct 1-1") -> Grid:
    district = district_make(org, name=name, kind="precinct", lon=LON0, lat=LAT0, size=0.01)
    west = district_make(org, name=f"{name} west ward", kind="ward", lon=LON0, lat=LAT0, size=0.01)
    east = district_make(org, name=f"{name} east ward", kind="ward", lon=LON0 + 0.0048, lat=LAT0)
    rows = []
    for r in range(ROWS):
        for c in range(COLS):
            number = str(2 * c + 2)
            street = f"Row {r} St"
            rows.append(
                Household(
                    organization=org,
                    external_id=f"{name}-{r}-{c}",
                    house_number=number,
                    street=street,
                    address_key=f"{number}|{street.upper()}|",
                    lon=LON0 + 0.0005 + c * STEP_LON,
                    lat=LAT0 + 0.0005 + r * STEP_LAT,
                    building_key=f"{name}-b-{r}-{c}",
                    city="Cambridge",
                )
            )
    Household.objects.bulk_create(rows)
    households = list(Household.objects.filter(external_id__startswith=f"{name}-").order_by("pk"))
    households.sort(key=lambda h: (round(h.lat, 6), round(h.lon, 6)))
    link = Household.districts.through
    link.objects.bulk_create([link(household_id=h.pk, district_id=district.pk) for h in households])
    link.objects.bulk_create(
        [
            link(household_id=h.pk, district_id=(west if i % COLS < COLS // 2 else east).pk)
            for i, h in enumerate(households)
        ]
    )
    return Grid(district=district, wards=(west, east), households=households)


@pytest.fixture
def grid(org) -> Grid:
    return grid_make(org)


def cut_drafts(campaign: Campaign, grid: Grid, *, n_turfs: int = 4) -> list[Turf]:
    run = services.turf_cut_commit(
        campaign=campaign, spec=services.CutSpec(district_id=grid.district.pk, n_turfs=n_turfs)
    )
    return list(Turf.objects.filter(cut_run=run).order_by("pk"))


@pytest.fixture
def drafts(campaign, grid) -> list[Turf]:
    return cut_drafts(campaign, grid)


@pytest.fixture
def published(campaign, drafts) -> Turf:
    return services.turf_publish(turf=drafts[0])


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]],
    }
