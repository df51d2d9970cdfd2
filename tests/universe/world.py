"""A small voter universe with real squares around Cambridge, MA, for the universe, scoping and
admin tests: two wards with precincts, doors and residents with distinctive names, turfs assigned
to the organizer's team and to a canvasser outside it, a knock with a result and a supporter ID,
and an outsider organization with data of its own that must never leak."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from canvass.models import (
    Campaign,
    ContactAttempt,
    HouseholdResult,
    Organization,
    Person,
    ResultCode,
    SupporterScore,
)
from tests.factories import district_make, household_make, person_make
from turf.models import Assignment, District, Household, Turf, TurfDoor


@dataclass
class Universe:
    ward9: District
    precinct93: District
    ward2: District
    team_doors: list[Household]  # in a turf assigned to the organizer's team
    other_door: Household  # in a turf assigned to a canvasser of no team
    loose_door: Household  # in no turf
    team_people: list[Person]
    other_person: Person
    loose_person: Person
    team_turf: Turf
    other_turf: Turf
    attempt: ContactAttempt
    outsider_district: District
    outsider_door: Household
    outsider_person: Person
    outsider_turf: Turf
    sibling_turf: Turf | None = None
    pii: list[str] = field(default_factory=list)


def link(household: Household, *districts: District) -> None:
    household.districts.add(*districts)


def turf_make(campaign: Campaign, doors: list[Household], *, list_number: str) -> Turf:
    turf = Turf.objects.create(
        campaign=campaign,
        name=f"Turf {list_number}",
        list_number=list_number,
        status="published",
        door_count=len(doors),
        published_at=timezone.now(),
    )
    TurfDoor.objects.bulk_create(
        TurfDoor(turf=turf, household=h, position=i) for i, h in enumerate(doors)
    )
    return turf


def assign(turf: Turf, canvasser: object) -> Assignment:
    return Assignment.objects.create(
        campaign=turf.campaign,
        turf=turf,
        canvasser=canvasser,
        created_at=timezone.now() - timedelta(hours=1),
    )


def knock(
    campaign: Campaign,
    household: Household,
    canvasser: object,
    *,
    code: str,
    person=None,
    score=None,
) -> ContactAttempt:
    now = timezone.now()
    result_code = ResultCode.objects.get(campaign=campaign, code=code)
    attempt = ContactAttempt.objects.create(
        id=uuid.uuid4(),
        campaign=campaign,
        household=household,
        person=person,
        canvasser=canvasser,
        device_id="device-1",
        result_code=result_code,
        supporter_id=score,
        device_time=now,
        effective_time=now,
        received_at=now,
        content_hash="x" * 64,
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
    if person is not None and score is not None:
        SupporterScore.objects.create(
            campaign=campaign, person=person, score=score, attempt=attempt, effective_time=now
        )
    return attempt


def universe_build(
    *,
    org: Organization,
    campaign: Campaign,
    team_canvasser: object,
    other_canvasser: object,
    outsider_org: Organization,
    outsider_campaign: Campaign,
    outsider_canvasser: object,
) -> Universe:
    ward9 = district_make(
        org, name="Ward 9", kind="ward", code="9", lon=-71.12, lat=42.36, size=0.02
    )
    precinct93 = district_make(
        org, name="Precinct 9-3", kind="precinct", code="9-3", lon=-71.12, lat=42.36, parent=ward9
    )
    ward2 = district_make(org, name="Ward 2", kind="ward", code="2", lon=-71.10, lat=42.37)

    team_doors = [
        household_make(org, number="12", street="Magazine St", lon=-71.115, lat=42.365),
        household_make(org, number="14", street="Magazine St", lon=-71.1151, lat=42.3651),
    ]
    for door in team_doors:
        link(door, ward9, precinct93)
    other_door = household_make(org, number="7", street="Pleasant St", lon=-71.112, lat=42.366)
    link(other_door, ward9)
    loose_door = household_make(org, number="101", street="Brattle St", lon=-71.095, lat=42.375)
    link(loose_door, ward2)

    team_people = [
        person_make(
            org,
            household=team_doors[0],
            first_name="Alma",
            last_name="Quintero",
            phone="6175550101",
            party="D",
            email="alma@example.org",
            year_of_birth=1961,
        ),
        person_make(
            org,
            household=team_doors[0],
            first_name="Bertrand",
            last_name="Okonkwo",
            phone="6175550102",
            party="R",
            registration_status="inactive",
        ),
        person_make(
            org, household=team_doors[1], first_name="Cosima", last_name="Feldstein", phone=""
        ),
    ]
    other_person = person_make(
        org, household=other_door, first_name="Dagny", last_name="Vasquez", phone="6175550104"
    )
    loose_person = person_make(
        org, household=loose_door, first_name="Evander", last_name="Lindqvist", phone="6175550105"
    )

    team_turf = turf_make(campaign, team_doors, list_number="T-TEAM")
    assign(team_turf, team_canvasser)
    other_turf = turf_make(campaign, [other_door], list_number="T-OTHER")
    assign(other_turf, other_canvasser)

    attempt = knock(
        campaign, team_doors[0], team_canvasser, code="canvassed", person=team_people[0], score=2
    )

    outsider_district = district_make(outsider_org, name="Outsider Ward", kind="ward", code="9")
    outsider_door = household_make(
        outsider_org, number="99", street="Zanzibar Rd", lon=-71.115, lat=42.365
    )
    link(outsider_door, outsider_district)
    outsider_person = person_make(
        outsider_org,
        household=outsider_door,
        first_name="Ottoline",
        last_name="Xerxesdottir",
        phone="6175550199",
    )
    outsider_turf = turf_make(outsider_campaign, [outsider_door], list_number="T-OUT")
    assign(outsider_turf, outsider_canvasser)

    people = [*team_people, other_person, loose_person]
    pii = [p.first_name for p in people] + [p.last_name for p in people]
    pii += [p.phone for p in people if p.phone] + ["alma@example.org"]
    pii += ["Magazine", "Pleasant St", "Brattle"]
    return Universe(
        ward9=ward9,
        precinct93=precinct93,
        ward2=ward2,
        team_doors=team_doors,
        other_door=other_door,
        loose_door=loose_door,
        team_people=team_people,
        other_person=other_person,
        loose_person=loose_person,
        team_turf=team_turf,
        other_turf=other_turf,
        attempt=attempt,
        outsider_district=outsider_district,
        outsider_door=outsider_door,
        outsider_person=outsider_person,
        outsider_turf=outsider_turf,
        pii=pii,
    )
