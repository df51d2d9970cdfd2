"""Small factory functions with real geometry (squares around Cambridge, MA)."""

from __future__ import annotations

import itertools
from typing import Any

from canvass.models import Organization, Person
from turf.models import District, Household

_seq = itertools.count(1)


def square(lon: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    """A GeoJSON Polygon square with its south-west corner at (lon, lat)."""
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


def district_make(
    org: Organization,
    *,
    name: str | None = None,
    kind: str = "precinct",
    lon: float = -71.12,
    lat: float = 42.37,
    size: float = 0.01,
    **extra: Any,
) -> District:
    geometry = square(lon, lat, size)
    return District.objects.create(
        organization=org,
        kind=kind,
        name=name or f"District {next(_seq)}",
        geometry=geometry,
        min_lon=lon,
        min_lat=lat,
        max_lon=lon + size,
        max_lat=lat + size,
        **extra,
    )


def household_make(
    org: Organization,
    *,
    number: str | None = None,
    street: str = "Magazine St",
    lon: float = -71.115,
    lat: float = 42.375,
    building_key: str | None = None,
    **extra: Any,
) -> Household:
    n = next(_seq)
    number = number or str(n)
    return Household.objects.create(
        organization=org,
        external_id=extra.pop("external_id", f"hh-{n}"),
        house_number=number,
        street=street,
        address_key=f"{number}|{street.upper()}|{extra.get('unit', '')}",
        lon=lon,
        lat=lat,
        building_key=building_key or f"b-{n}",
        city=extra.pop("city", "Cambridge"),
        **extra,
    )


def person_make(org: Organization, *, household: Household | None = None, **extra: Any) -> Person:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "first_name": f"First{n}",
        "last_name": f"Last{n}",
        "external_voter_id": f"V{n:07d}",
        "phone": f"617555{n:04d}"[-10:],
        "party": "U",
    }
    defaults.update(extra)
    return Person.objects.create(organization=org, household=household, **defaults)
