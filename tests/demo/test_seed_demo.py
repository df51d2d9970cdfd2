"""manage.py seed_demo: the demo organization, campaign, cast and synthetic universe."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from canvass.demo import DEMO_CAMPAIGN_NAME, DEMO_ORG_NAME
from canvass.models import (
    Campaign,
    CampaignGoal,
    Membership,
    Organization,
    Person,
    Question,
    ResultCode,
    Script,
)
from tests.conftest import cambridge_path
from turf.models import Assignment, District, Household, MapLayer, Turf, TurfDoor
from turf.synthetic import city_generate, voters_generate

pytestmark = pytest.mark.django_db

CAST = {
    "director": ("director", None),
    "organizer1": ("organizer", "North Team"),
    "organizer2": ("organizer", "South Team"),
    "canvasser1": ("canvasser", "North Team"),
    "canvasser2": ("canvasser", "North Team"),
    "canvasser3": ("canvasser", "North Team"),
    "canvasser4": ("canvasser", "South Team"),
    "canvasser5": ("canvasser", "South Team"),
    "canvasser6": ("canvasser", "South Team"),
    "viewer": ("viewer", None),
}


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--doors", "300", "--force", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "orgs": Organization.objects.count(),
        "campaigns": Campaign.objects.count(),
        "users": get_user_model().objects.count(),
        "memberships": Membership.objects.count(),
        "doors": Household.objects.count(),
        "people": Person.objects.count(),
        "districts": District.objects.count(),
        "layers": MapLayer.objects.count(),
        "links": Household.districts.through.objects.count(),
    }


def test_it_creates_the_demo_campaign_and_cast():
    output = seed()
    org = Organization.objects.get()
    assert org.name == DEMO_ORG_NAME
    campaign = Campaign.objects.get(organization=org)
    assert campaign.name == DEMO_CAMPAIGN_NAME and campaign.election_date is not None
    roles = {
        m.user.username: (m.role, m.team.name if m.team else None)
        for m in Membership.objects.filter(campaign=campaign).select_related("user", "team")
    }
    assert roles == CAST
    User = get_user_model()
    for username in [*CAST, "admin"]:
        assert User.objects.get(username=username).check_password(f"demo-{username}")
        assert f"demo-{username}" in output
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert not User.objects.filter(username="director", is_staff=True).exists()
    assert "/api/auth/token/" in output and "/api/docs/" in output and "curl" in output


def test_it_sets_goals_result_codes_and_a_branching_script():
    seed()
    campaign = Campaign.objects.get()
    goals = dict(CampaignGoal.objects.filter(campaign=campaign).values_list("metric", "target"))
    assert set(goals) == {"doors_knocked", "contacts", "voter_registrations", "signups"}
    assert ResultCode.objects.filter(campaign=campaign).count() == 10
    script = Script.objects.get(campaign=campaign, is_active=True)
    questions = list(Question.objects.filter(script=script).order_by("position"))
    assert [q.key for q in questions] == ["supporter_id", "will_vote", "top_issue", "rent_increase"]
    assert [q.kind for q in questions] == ["supporter_id", "yes_no", "single_choice", "yes_no"]
    branch = questions[3]
    assert branch.show_if_question == questions[2]
    assert [o.value for o in branch.show_if_options.all()] == ["housing"]
    assert questions[1].show_if_question is None


def test_it_loads_the_synthetic_universe():
    output = seed("--no-turfs")
    org = Organization.objects.get()
    assert Household.objects.filter(organization=org).count() == 300
    assert Person.objects.filter(organization=org).count() > 300
    kinds = set(District.objects.values_list("kind", flat=True))
    assert kinds == {"state_house", "ward", "precinct"}
    assert District.objects.filter(kind="precinct", parent__isnull=True).count() == 0
    # Every door lies in exactly one district of each kind.
    through = Household.districts.through
    assert through.objects.count() == 300 * 3
    assert set(MapLayer.objects.values_list("kind", flat=True)) == {"rail", "water", "streets"}
    assert MapLayer.objects.get(kind="streets").feature_count > 10
    multi = Household.objects.exclude(unit="").values("building_key").distinct().count()
    assert multi > 0
    assert "Loading 300 doors" in output and "Demo loaded" in output


def test_it_stores_the_generated_doors_and_voters_as_generated():
    seed("--no-turfs", "--seed", "11")
    city = city_generate(doors=300, seed=11)
    voters = voters_generate(units=city.units, seed=11)
    doors = {h.external_id: h for h in Household.objects.all()}
    assert set(doors) == {f"demo-{i}" for i in range(300)}
    for i in (0, 57, 299):
        h = doors[f"demo-{i}"]
        assert (h.house_number, h.street, h.unit) == (
            str(city.house_number[i]),
            city.street[i],
            city.unit[i],
        )
        assert (h.lon, h.lat) == (float(city.lon[i]), float(city.lat[i]))
        assert h.units_est == city.units[i] and h.address_key.endswith(f"|{city.unit[i]}".upper())
    people = {p.external_voter_id: p for p in Person.objects.select_related("household")}
    assert len(people) == len(voters)
    for i in range(len(voters)):
        p = people[voters.external_voter_id_of(i)]
        assert p.household.external_id == f"demo-{voters.door[i]}"
        assert (p.first_name, p.last_name, p.party) == (
            voters.first_name[i],
            voters.last_name[i],
            voters.party[i],
        )
        assert (p.phone, p.email) == (voters.phone_of(i), voters.email_of(i))
        assert p.registration_status == voters.registration_status[i]


def test_it_does_nothing_the_second_time():
    seed()
    before = counts()
    output = seed()
    assert counts() == before
    assert "already exists" in output and "nothing changed" in output


def test_it_rebuilds_with_reset():
    seed()
    before = counts()
    old_org = Organization.objects.get().pk
    output = seed("--reset")
    assert counts() == before
    assert Organization.objects.get().pk != old_org
    assert "Deleting the demo organization" in output


def test_it_leaves_other_organizations_alone_on_reset(org, campaign, director):
    seed()
    seed("--reset")
    assert Organization.objects.filter(pk=org.pk).exists()
    assert Campaign.objects.filter(pk=campaign.pk).exists()
    assert Membership.objects.filter(campaign=campaign, user=director).exists()


def test_it_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", "--doors", "300", stdout=StringIO())
    assert counts()["orgs"] == 0 and counts()["users"] == 0


def test_it_rejects_a_bad_door_count():
    with pytest.raises(CommandError, match="--doors"):
        call_command("seed_demo", "--doors", "0", "--force", stdout=StringIO())
    assert counts()["orgs"] == 0


def test_it_rejects_a_missing_real_data_folder(tmp_path):
    with pytest.raises(CommandError, match="not a folder"):
        seed("--real-data", str(tmp_path / "nope"))
    assert counts()["orgs"] == 0


def test_it_cuts_publishes_and_assigns_demo_turfs():
    output = seed("--turf-target", "40")
    campaign = Campaign.objects.get()
    turfs = Turf.objects.filter(campaign=campaign)
    assert turfs.count() >= 6
    # Every door of the district is in exactly one turf of the cut.
    assert TurfDoor.objects.filter(turf__campaign=campaign).count() == 300
    published = turfs.filter(status="published")
    assert published.count() == min(12, turfs.count())
    assert all(t.list_number for t in published)
    assert not turfs.filter(status="draft", list_number__isnull=False).exists()
    assignments = Assignment.objects.filter(campaign=campaign, ended_at__isnull=True)
    assert assignments.count() == published.count()
    assert {a.turf_id for a in assignments} == {t.pk for t in published}
    assert {a.canvasser.username for a in assignments} == {f"canvasser{i}" for i in range(1, 7)}
    first = published.order_by("id").first()
    assert first.list_number in output


def test_it_skips_turfs_when_asked():
    seed("--no-turfs")
    assert Turf.objects.count() == 0 and Assignment.objects.count() == 0


@pytest.mark.slow
def test_it_loads_the_real_cambridge_data_with_synthetic_voters():
    folder = cambridge_path()
    cambridge_path("address", "doors.csv")
    # Few people per unit: the point is the real doors and districts, and inserting 48,000
    # people would triple the test's time.
    output = seed("--real-data", str(folder), "--no-turfs", "--people-per-unit", "0.2")
    org = Organization.objects.get()
    assert Household.objects.filter(organization=org).count() == 17_463
    assert Household.objects.filter(city="Cambridge").count() == 17_463
    kinds = Counter(District.objects.filter(organization=org).values_list("kind", flat=True))
    assert kinds == {"state_house": 6, "ward": 11, "precinct": 33}
    assert District.objects.get(kind="precinct", name="9-3").parent.name == "9"
    people = Person.objects.filter(organization=org)
    assert 2_000 < people.count() < 17_463
    assert people.filter(household__isnull=True).count() == 0
    assert not people.exclude(external_voter_id__startswith="SYN").exists()
    rail = MapLayer.objects.get(kind="rail")
    assert {f["properties"]["TYPE"] for f in rail.features["features"]} == {"RAIL-ACTIVE"}
    assert set(MapLayer.objects.values_list("kind", flat=True)) == {"rail", "water", "streets"}
    # Every door lies in one ward and one precinct.
    through = Household.districts.through
    assert through.objects.filter(district__kind="ward").count() == 17_463
    assert through.objects.filter(district__kind="precinct").count() == 17_463
    assert "Demo loaded" in output


def test_it_prints_urls_for_the_port_make_demo_serves_on(monkeypatch):
    monkeypatch.setenv("PORT", "8765")
    output = seed("--no-turfs")
    assert "http://127.0.0.1:8765/api/auth/token/" in output
    assert "http://127.0.0.1:8765/api/docs/" in output
    assert ":8000" not in output
