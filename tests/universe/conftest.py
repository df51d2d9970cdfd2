from __future__ import annotations

import pytest

from canvass.models import Role
from canvass.services import membership_grant
from tests.universe.world import Universe, universe_build


@pytest.fixture
def outsider_canvasser(make_user, outsider_campaign):
    user = make_user("outsider_canvasser")
    membership_grant(campaign=outsider_campaign, user=user, role=Role.CANVASSER)
    return user


@pytest.fixture
def universe(
    org, campaign, canvasser, other_canvasser, outsider_org, outsider_campaign, outsider_canvasser
) -> Universe:
    return universe_build(
        org=org,
        campaign=campaign,
        team_canvasser=canvasser,
        other_canvasser=other_canvasser,
        outsider_org=outsider_org,
        outsider_campaign=outsider_campaign,
        outsider_canvasser=outsider_canvasser,
    )
