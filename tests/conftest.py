"""The fixed cast every API test uses (healthchecks style): one organization with a campaign
and a director, an organizer, two canvassers and a viewer; and an outsider organization with
its own campaign, director and data, which must never leak."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from canvass.models import Campaign, Organization, Role, Team
from canvass.services import campaign_create, membership_grant, organization_create

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cambridge"


def cambridge_path(*parts: str) -> Path:
    """Path into ../shared/data/cambridge, skipping the test when the data is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"Cambridge data not found at {path} (../shared is not checked out beside the project)"
        )
    return path


@pytest.fixture
def make_user(db) -> Callable[..., object]:
    def make(username: str, **extra: object) -> object:
        return get_user_model().objects.create_user(
            username=username, password="pw-" + username, **extra
        )

    return make


@pytest.fixture
def org(db) -> Organization:
    return organization_create(name="Workers Party of Massachusetts", slug="wpm")


@pytest.fixture
def campaign(org) -> Campaign:
    return campaign_create(
        organization=org, name="Rivera for State Rep", goals={"doors_knocked": 1000}
    )


@pytest.fixture
def team(campaign) -> Team:
    return Team.objects.create(campaign=campaign, name="Cambridgeport")


@pytest.fixture
def director(make_user, campaign):
    user = make_user("director")
    membership_grant(campaign=campaign, user=user, role=Role.DIRECTOR)
    return user


@pytest.fixture
def organizer(make_user, campaign, team):
    user = make_user("organizer")
    membership_grant(campaign=campaign, user=user, role=Role.ORGANIZER, team=team)
    return user


@pytest.fixture
def canvasser(make_user, campaign, team):
    user = make_user("canvasser")
    membership_grant(campaign=campaign, user=user, role=Role.CANVASSER, team=team)
    return user


@pytest.fixture
def other_canvasser(make_user, campaign):
    user = make_user("other_canvasser")
    membership_grant(campaign=campaign, user=user, role=Role.CANVASSER)
    return user


@pytest.fixture
def viewer(make_user, campaign):
    user = make_user("viewer")
    membership_grant(campaign=campaign, user=user, role=Role.VIEWER)
    return user


@pytest.fixture
def outsider_org(db) -> Organization:
    return organization_create(name="Other Group", slug="other")


@pytest.fixture
def outsider_campaign(outsider_org) -> Campaign:
    return campaign_create(organization=outsider_org, name="Other Campaign")


@pytest.fixture
def outsider(make_user, outsider_campaign):
    """A director of another organization's campaign."""
    user = make_user("outsider")
    membership_grant(campaign=outsider_campaign, user=user, role=Role.DIRECTOR)
    return user


@pytest.fixture
def sibling_campaign(org) -> Campaign:
    """Another campaign of the same organization (same voter universe, separate campaign data)."""
    return campaign_create(organization=org, name="Chen for State Senate")


@pytest.fixture
def client_for() -> Callable[[object], APIClient]:
    def make(user: object | None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
