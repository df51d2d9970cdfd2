"""The demo organization: a synthetic city (or real Cambridge doors), a campaign and its cast.

`demo_seed` is what `manage.py seed_demo` runs. It is idempotent: when the demo organization
already exists it changes nothing (and says so) unless `reset=True`, which wipes the demo
organization first. Everything is written in one transaction, so a failure leaves no half demo.

The passwords (`demo-<username>`) are for local development only: the command refuses to run
with DEBUG off unless forced, because a server with well-known passwords is an open door.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count
from shapely.geometry import shape

from canvass.errors import InvalidInput
from canvass.models import (
    Campaign,
    ContactAttempt,
    GoalMetric,
    HouseholdResult,
    Membership,
    Organization,
    Person,
    QuestionKind,
    Role,
    SupporterScore,
    Team,
    VolunteerSignup,
)
from canvass.services import campaign_create, membership_grant, organization_create, script_create
from turf.addresses import address_key
from turf.imports.common import rows_insert
from turf.imports.districts import districts_import_geojson
from turf.imports.doors import doors_import
from turf.models import Assignment, District, DistrictKind, Household, LayerKind, MapLayer, Turf
from turf.services.geo import households_assign_districts
from turf.services.layers import layer_import
from turf.services.turfs import CutSpec, assignment_create, turf_cut_commit, turf_publish
from turf.synthetic import SyntheticCity, SyntheticVoters, city_generate, voters_generate

Progress = Callable[[str], None]

DEMO_ORG_NAME = "Demo Workers Party"
DEMO_ORG_SLUG = "demo-workers-party"
DEMO_CAMPAIGN_NAME = "Demo for State Rep"
DEMO_CAMPAIGN_SLUG = "demo-for-state-rep"
DEMO_GOALS: dict[str, int] = {
    GoalMetric.DOORS_KNOCKED: 4_000,
    GoalMetric.CONTACTS: 1_500,
    GoalMetric.VOTER_REGISTRATIONS: 150,
    GoalMetric.SIGNUPS: 60,
}
ADMIN_USERNAME = "admin"
DEMO_HASH_ITERATIONS = 1_000
REAL_UNITS_CAP = 3
# Rows per insert statement batch (plain-row inserts: see turf.imports.common.rows_insert).
BATCH = 10_000


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str  # a Role value, or "admin" for the Django superuser
    team: str | None = None

    @property
    def password(self) -> str:
        return demo_password(self.username)


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("director", Role.DIRECTOR),
    DemoUser("organizer1", Role.ORGANIZER, "North Team"),
    DemoUser("organizer2", Role.ORGANIZER, "South Team"),
    *(DemoUser(f"canvasser{i}", Role.CANVASSER, "North Team") for i in (1, 2, 3)),
    *(DemoUser(f"canvasser{i}", Role.CANVASSER, "South Team") for i in (4, 5, 6)),
    DemoUser("viewer", Role.VIEWER),
)
ADMIN_USER = DemoUser(ADMIN_USERNAME, "admin")

# Beyond the built-in supporter ID question that every script starts with.
DEMO_QUESTIONS: tuple[dict[str, Any], ...] = (
    {
        "key": "will_vote",
        "prompt": "Will you vote on Election Day?",
        "kind": QuestionKind.YES_NO,
        "options": [("yes", "Yes"), ("no", "No")],
    },
    {
        "key": "top_issue",
        "prompt": "What is the most important issue for you this year?",
        "kind": QuestionKind.SINGLE_CHOICE,
        "options": [
            ("housing", "Housing and rent"),
            ("wages", "Wages and jobs"),
            ("transit", "Transit"),
            ("schools", "Schools"),
            ("climate", "Climate"),
            ("other", "Something else"),
        ],
    },
    {
        "key": "rent_increase",
        "prompt": "Has your rent gone up by more than 10% in the last two years?",
        "kind": QuestionKind.YES_NO,
        "options": [("yes", "Yes"), ("no", "No")],
        "show_if": {"question": "top_issue", "options": ["housing"]},
    },
)


def demo_password(username: str) -> str:
    """The development-only password of a demo user."""
    return f"demo-{username}"


def election_date_next(today: date) -> date:
    """The next general election day: the Tuesday after the first Monday of November."""
    year = today.year
    while True:
        first = date(year, 11, 1)
        first_monday = 1 + (7 - first.weekday()) % 7
        day = date(year, 11, first_monday + 1)
        if day > today:
            return day
        year += 1


@dataclass
class DemoResult:
    organization: Organization
    campaign: Campaign
    created: bool
    doors: int = 0
    people: int = 0
    districts: int = 0
    layers: int = 0
    turfs: int = 0
    users: list[DemoUser] = field(default_factory=list)
    # (canvasser username, turf list number) of the demo's open assignments.
    assignments: list[tuple[str, str]] = field(default_factory=list)


def demo_assignments(*, campaign: Campaign) -> list[tuple[str, str]]:
    """(canvasser username, list number) of the campaign's open assignments."""
    return [
        (username, list_number or "")
        for username, list_number in Assignment.objects.filter(
            campaign=campaign, ended_at__isnull=True
        )
        .order_by("canvasser__username", "turf__list_number")
        .values_list("canvasser__username", "turf__list_number")
    ]


def demo_organization() -> Organization | None:
    return Organization.objects.filter(slug=DEMO_ORG_SLUG).first()


@transaction.atomic
def demo_reset(*, progress: Progress | None = None) -> bool:
    """Delete the demo organization and everything in it; the demo users stay (their
    memberships go with the campaign). Returns whether there was anything to delete."""
    org = demo_organization()
    if org is None:
        return False
    if progress:
        progress(f"Deleting the demo organization {org.name!r} and its data")
    campaigns = Campaign.objects.filter(organization=org)
    # Contact attempts PROTECT their household and result code, so the ledger and what is
    # derived from it go first; the cascade from the organization then takes the rest.
    SupporterScore.objects.filter(campaign__in=campaigns).delete()
    HouseholdResult.objects.filter(campaign__in=campaigns).delete()
    VolunteerSignup.objects.filter(campaign__in=campaigns).delete()
    ContactAttempt.objects.filter(campaign__in=campaigns).delete()
    org.delete()
    return True


def demo_seed(
    *,
    doors: int = 5_000,
    seed: int = 7,
    real_data: Path | None = None,
    reset: bool = False,
    turfs: bool = True,
    turf_target: int = 80,
    people_per_unit: float = 1.7,
    progress: Progress | None = None,
) -> DemoResult:
    """Create the demo organization, campaign, cast and voter universe.

    Synthetic by default (`doors` doors from `turf.synthetic.city_generate(doors, seed)`); with
    `real_data` (a Cambridge data folder) the real districts and doors are imported instead and
    synthetic voters are placed on them. With `turfs` (the default), the state house district is
    cut into draft turfs, a dozen of which are published and assigned to the canvassers. Returns what exists afterwards; `created` is
    False when the demo was already present (nothing changed).
    """
    say = progress or (lambda _msg: None)
    if reset:
        demo_reset(progress=say)
    existing = demo_organization()
    if existing is not None:
        campaign = Campaign.objects.get(organization=existing, slug=DEMO_CAMPAIGN_SLUG)
        return DemoResult(
            organization=existing,
            campaign=campaign,
            created=False,
            doors=Household.objects.filter(organization=existing).count(),
            people=Person.objects.filter(organization=existing).count(),
            districts=District.objects.filter(organization=existing).count(),
            layers=MapLayer.objects.filter(organization=existing).count(),
            turfs=campaign.turfs.count(),
            users=[*DEMO_USERS, ADMIN_USER],
            assignments=demo_assignments(campaign=campaign),
        )
    with transaction.atomic():
        org = organization_create(name=DEMO_ORG_NAME, slug=DEMO_ORG_SLUG)
        campaign = demo_campaign_create(organization=org, progress=say)
        cast_create(campaign=campaign, progress=say)
        if real_data is not None:
            n_doors, n_districts, n_layers = real_universe_load(
                organization=org, folder=real_data, progress=say
            )
            units = list(
                Household.objects.filter(organization=org)
                .order_by("id")
                .values_list("id", "units_est")
            )
            household_ids = [h for h, _ in units]
            # A real address may stand for a whole building without unit rows (up to 320
            # units in Cambridge): people for at most REAL_UNITS_CAP units per door.
            voters = voters_generate(
                units=[min(u, REAL_UNITS_CAP) for _, u in units],
                seed=seed,
                per_unit=people_per_unit,
            )
        else:
            say(f"Generating a synthetic city of {doors:,} doors (seed {seed})")
            city = city_generate(doors=doors, seed=seed)
            n_districts = districts_load(organization=org, city=city, progress=say)
            household_ids = households_load(organization=org, city=city, progress=say)
            n_doors = len(household_ids)
            n_layers = layers_load(organization=org, city=city, progress=say)
            districts_link(organization=org, progress=say)
            voters = voters_generate(units=city.units, seed=seed, per_unit=people_per_unit)
        n_people = people_load(
            organization=org, voters=voters, household_ids=household_ids, progress=say
        )
        n_turfs = 0
        if turfs:
            n_turfs = demo_turfs_create(campaign=campaign, target=turf_target, progress=say)
    return DemoResult(
        assignments=demo_assignments(campaign=campaign),
        organization=org,
        campaign=campaign,
        created=True,
        doors=n_doors,
        people=n_people,
        districts=n_districts,
        layers=n_layers,
        turfs=n_turfs,
        users=[*DEMO_USERS, ADMIN_USER],
    )


def demo_campaign_create(*, organization: Organization, progress: Progress) -> Campaign:
    progress(f"Creating the campaign {DEMO_CAMPAIGN_NAME!r} with goals, result codes and script")
    campaign = campaign_create(
        organization=organization,
        name=DEMO_CAMPAIGN_NAME,
        slug=DEMO_CAMPAIGN_SLUG,
        election_date=election_date_next(date.today()),
        description="A demo campaign on synthetic voters. Nothing here is real.",
        goals=dict(DEMO_GOALS),
    )
    # Replaces the default script campaign_create made (which stays, inactive).
    script_create(
        campaign=campaign,
        name="Demo door script",
        introduction=(
            "Hi, I'm a volunteer with the Demo Workers Party. We're talking with neighbours "
            "about the State Rep race. Do you have a minute?"
        ),
        questions=DEMO_QUESTIONS,
    )
    return campaign


def demo_password_hash(password: str) -> str:
    """A cheap PBKDF2 hash for a well-known demo password.

    The default cost (~1M iterations, seconds per hash on a busy laptop) protects secrets;
    these passwords are printed on screen, so cost buys nothing and made `make demo` take
    half a minute. Django verifies the hash as usual and re-hashes it at the default cost on
    the first successful login (`must_update`)."""
    hasher = copy.copy(get_hasher("default"))
    if isinstance(hasher, PBKDF2PasswordHasher):
        hasher.iterations = DEMO_HASH_ITERATIONS
    return hasher.encode(password, hasher.salt())


def users_ensure(*, progress: Progress) -> list[AbstractBaseUser]:
    """Create every demo user and the admin superuser, (re)setting their demo passwords."""
    User = get_user_model()
    users: list[AbstractBaseUser] = []
    for spec in (*DEMO_USERS, ADMIN_USER):
        user, created = User.objects.get_or_create(username=spec.username)
        user.password = demo_password_hash(spec.password)
        user.is_active = True
        if spec is ADMIN_USER:
            user.is_staff = user.is_superuser = True
        user.save()
        progress(f"  {'created' if created else 'reset password of'} user {spec.username}")
        users.append(user)
    return users


def cast_create(*, campaign: Campaign, progress: Progress) -> None:
    progress("Creating users, teams and roles")
    users = {u.get_username(): u for u in users_ensure(progress=progress)}
    teams: dict[str, Team] = {}
    for spec in DEMO_USERS:
        team = None
        if spec.team:
            team = teams.get(spec.team)
            if team is None:
                team = Team(campaign=campaign, name=spec.team)
                team.full_clean()
                team.save()
                teams[spec.team] = team
        membership_grant(campaign=campaign, user=users[spec.username], role=spec.role, team=team)


def _bbox(geometry: dict[str, Any]) -> dict[str, float]:
    min_lon, min_lat, max_lon, max_lat = shape(geometry).bounds
    return {"min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}


def districts_load(*, organization: Organization, city: SyntheticCity, progress: Progress) -> int:
    progress(f"Loading {len(city.districts)} districts (state house district, wards, precincts)")
    by_code: dict[str, District] = {}
    for d in city.districts:  # wards come before their precincts
        district = District(
            organization=organization,
            kind=d.kind,
            name=d.name,
            code=d.code,
            parent=by_code.get(d.parent_code) if d.parent_code else None,
            geometry=d.geometry,
            properties={"source": "synthetic", "seed": city.seed},
            **_bbox(d.geometry),
        )
        district.full_clean()
        district.save()
        if d.kind == DistrictKind.WARD:
            by_code[d.code] = district
    return len(city.districts)


def households_load(
    *, organization: Organization, city: SyntheticCity, progress: Progress
) -> list[int]:
    """Insert the doors (plain-row inserts: COPY on PostgreSQL); returns their ids in door order."""
    n = len(city)
    progress(f"Loading {n:,} doors")
    street = city.street.tolist()
    number = city.house_number.tolist()
    unit = city.unit.tolist()
    lon = city.lon.tolist()
    lat = city.lat.tolist()
    building = city.building.tolist()
    units = city.units.tolist()
    for start in range(0, n, BATCH):
        rows_insert(
            Household,
            [
                {
                    "organization_id": organization.pk,
                    "external_id": f"demo-{i}",
                    "house_number": str(number[i]),
                    "street": street[i],
                    "unit": unit[i],
                    "city": city.city,
                    "state": city.state,
                    "zip_code": city.zip_code,
                    "address_key": address_key(str(number[i]), street[i], unit[i]),
                    "lon": lon[i],
                    "lat": lat[i],
                    "building_key": f"demo-b{building[i]}",
                    "units_est": units[i],
                }
                for i in range(start, min(n, start + BATCH))
            ],
        )
        _progress_every(progress, "doors", min(n, start + BATCH), n)
    by_external = dict(
        Household.objects.filter(organization=organization).values_list("external_id", "id")
    )
    return [by_external[f"demo-{i}"] for i in range(n)]


def _progress_every(progress: Progress, what: str, done: int, total: int) -> None:
    step = max(BATCH, 10 ** max(3, int(math.log10(max(total, 1))) - 1))
    if total > BATCH and (done % step < BATCH or done == total):
        progress(f"  {done:,} / {total:,} {what}")


def layers_load(*, organization: Organization, city: SyntheticCity, progress: Progress) -> int:
    progress("Loading map layers: river (water), railway (rail), street centerlines")
    layers = [
        (LayerKind.WATER, "Quinebaug River", city.river_features()),
        (LayerKind.RAIL, "Fairhaven railway", city.railway_features()),
        (LayerKind.STREETS, "Street centerlines", city.street_features()),
    ]
    for kind, name, features in layers:
        layer = MapLayer(
            organization=organization,
            kind=kind,
            name=name,
            features=features,
            feature_count=len(features["features"]),
        )
        layer.full_clean()
        layer.save()
    return len(layers)


def districts_link(*, organization: Organization, progress: Progress) -> int:
    return households_assign_districts(organization=organization, progress=progress)


def people_load(
    *,
    organization: Organization,
    voters: SyntheticVoters,
    household_ids: Sequence[int],
    progress: Progress,
) -> int:
    n = len(voters)
    progress(f"Loading a synthetic voter file of {n:,} people")
    door = voters.door.tolist()
    first = voters.first_name.tolist()
    last = voters.last_name.tolist()
    party = voters.party.tolist()
    status = voters.registration_status.tolist()
    yob = voters.year_of_birth.tolist()
    sex = voters.sex.tolist()
    # Plain lists: per-element numpy indexing costs more than the insert itself at 1M+ rows.
    number = voters.voter_number.tolist()
    phone = voters.phone.tolist()
    has_email = voters.has_email.tolist()
    for start in range(0, n, BATCH):
        rows_insert(
            Person,
            [
                {
                    "organization_id": organization.pk,
                    "household_id": household_ids[door[i]],
                    "external_voter_id": f"SYN{number[i]:08d}",
                    "first_name": first[i],
                    "last_name": last[i],
                    "sex": sex[i],
                    "year_of_birth": yob[i],
                    "party": party[i],
                    "phone": str(phone[i]) if phone[i] else "",
                    "email": f"{first[i].lower()}.{number[i]}@example.org" if has_email[i] else "",
                    "registration_status": status[i],
                }
                for i in range(start, min(n, start + BATCH))
            ],
        )
        _progress_every(progress, "people", min(n, start + BATCH), n)
    return n


def real_universe_load(
    *, organization: Organization, folder: Path, progress: Progress
) -> tuple[int, int, int]:
    """Districts, doors and map layers from a Cambridge data folder (see its README.md).

    Uses the project's importers, so the demo exercises the same code path as a director's
    import: state house districts, precincts dissolved into wards, doors (preset `cambridge`),
    then the active at-grade railways, water bodies and street centerlines as map layers.
    Returns (doors, districts, layers).
    """
    files = {
        "state_house": folder / "elections" / "state_rep_districts.geojson",
        "precincts": folder / "elections" / "wards_precincts.geojson",
        "doors": folder / "address" / "doors.csv",
        "rail": folder / "barriers" / "rail.geojson",
        "water": folder / "barriers" / "water.geojson",
        "streets": folder / "streets" / "centerlines.geojson",
    }
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise InvalidInput(
            f"Not a Cambridge data folder: missing {', '.join(missing)}.",
            code="real_data_missing",
            fields={"real_data": missing},
        )
    progress(f"Importing state house districts from {files['state_house']}")
    districts_import_geojson(
        organization=organization,
        fp_or_path=str(files["state_house"]),
        kind=DistrictKind.STATE_HOUSE,
        name_property="Name",
        assign=False,
        progress=progress,
    )
    progress(f"Importing wards and precincts from {files['precincts']}")
    districts_import_geojson(
        organization=organization,
        fp_or_path=str(files["precincts"]),
        kind=DistrictKind.PRECINCT,
        name_property="WardPrecinct",
        code_property="WardPrecinct",
        parent_kind=DistrictKind.WARD,
        parent_property="Ward",
        dissolve=True,
        assign=False,
        progress=progress,
    )
    progress(f"Importing doors from {files['doors']}")
    doors_import(
        organization=organization,
        path=str(files["doors"]),
        fmt="csv",
        preset="cambridge",
        assign=False,
        progress=progress,
    )
    households_assign_districts(organization=organization, progress=progress)
    layers = [
        (
            LayerKind.RAIL,
            "Active railways at grade",
            "rail",
            {"TYPE": "RAIL-ACTIVE", "GRADE": "At-Grade"},
        ),
        (LayerKind.WATER, "Water bodies", "water", None),
        (LayerKind.STREETS, "Street centerlines", "streets", None),
    ]
    for kind, name, key, filter_ in layers:
        progress(f"Importing map layer {name!r} from {files[key]}")
        with files[key].open("rb") as fh:
            geojson = json.load(fh)
        layer_import(
            organization=organization,
            kind=kind,
            name=name,
            geojson=geojson,
            filter_=filter_,
            source_name=files[key].name,
            progress=progress,
        )
    return (
        Household.objects.filter(organization=organization).count(),
        District.objects.filter(organization=organization).count(),
        len(layers),
    )


def demo_district(*, organization: Organization) -> District | None:
    """The campaign's district: the state house district with the most doors."""
    return (
        District.objects.filter(organization=organization, kind=DistrictKind.STATE_HOUSE)
        .annotate(doors=Count("households"))
        .order_by("-doors", "id")
        .first()
    )


def demo_turfs_create(
    *, campaign: Campaign, target: int, progress: Progress, published: int = 12
) -> int:
    """Cut the demo district into draft turfs (wards kept apart, barrier layers on), publish
    `published` of them and assign them round-robin to the demo canvassers, two each.

    The rest stay drafts, so a director has both to try: drafts to edit, published turfs to
    download as packets. Returns the number of turfs cut.
    """
    district = demo_district(organization=campaign.organization)
    if district is None:
        raise InvalidInput("The demo has no state house district to cut.", code="no_district")
    director = get_user_model().objects.get(username="director")
    progress(f"Cutting {district.name} into turfs of about {target} doors")
    run = turf_cut_commit(
        campaign=campaign,
        spec=CutSpec(district_id=district.pk, target=target, group_by=DistrictKind.WARD),
        actor=director,
        progress=progress,
    )
    turfs = list(Turf.objects.filter(cut_run=run).order_by("id"))
    canvassers = [
        m.user
        for m in Membership.objects.filter(campaign=campaign, role=Role.CANVASSER)
        .select_related("user")
        .order_by("user__username")
    ]
    to_publish = turfs[:published]
    progress(
        f"  {len(turfs)} draft turfs; publishing {len(to_publish)} and assigning them to "
        f"{len(canvassers)} canvassers"
    )
    for i, turf in enumerate(to_publish):
        turf = turf_publish(turf=turf, actor=director)
        if canvassers:
            assignment_create(
                turf=turf, canvasser_ids=[canvassers[i % len(canvassers)].pk], actor=director
            )
    return len(turfs)
