"""Token authentication and the membership read are raw statements (api.authentication,
canvass.access): they answer exactly as DRF's token lookup and `select_related` did."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from canvass.access import membership_require
from canvass.errors import NotFound
from canvass.rows import prepared_cursor

pytestmark = pytest.mark.django_db


def test_it_authenticates_a_token_and_refuses_an_unknown_or_inactive_one(
    canvasser, client_for, make_user
):
    client = client_for(canvasser)
    assert client.get("/api/me/").status_code == 200

    unknown = APIClient()
    unknown.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = unknown.get("/api/me/")
    assert response.status_code == 401
    assert "Invalid token." in str(response.json())

    canvasser.is_active = False
    canvasser.save(update_fields=["is_active"])
    response = client.get("/api/me/")
    assert response.status_code == 401
    assert "User inactive or deleted." in str(response.json())


def test_it_loads_the_membership_with_campaign_organization_and_team_in_one_query(
    organizer, campaign, team, org, django_assert_num_queries
):
    with django_assert_num_queries(1):
        membership = membership_require(user=organizer, campaign_id=str(campaign.pk))
        loaded = (
            membership.campaign.name,
            membership.campaign.organization.name,
            membership.team.name if membership.team else None,
            membership.user.pk,
            membership.role,
        )

    assert loaded == (campaign.name, org.name, team.name, organizer.pk, "organizer")
    assert membership.campaign.created_at == type(campaign).objects.get().created_at


def test_it_loads_a_membership_without_a_team(director, campaign):
    membership = membership_require(user=director, campaign_id=campaign.pk)

    assert membership.team is None
    assert membership.team_id is None


@pytest.mark.parametrize("campaign_id", [2**63, -(2**63) - 1, "99999999999999999999999"])
def test_it_answers_not_found_for_an_id_out_of_range(director, campaign_id):
    with pytest.raises(NotFound):
        membership_require(user=director, campaign_id=campaign_id)


def test_the_hot_reads_answer_the_same_once_prepared(organizer, campaign, team, client_for):
    """On PostgreSQL the token and membership reads run on a server-binding cursor, prepared
    by psycopg after `prepare_threshold` runs on the connection; the answers (aware datetimes
    included) stay those of the first, unprepared runs."""
    client = client_for(organizer)
    first = membership_require(user=organizer, campaign_id=campaign.pk)
    for _ in range(8):
        assert client.get("/api/me/").status_code == 200
        again = membership_require(user=organizer, campaign_id=campaign.pk)
        assert (again.pk, again.campaign.created_at, again.campaign.organization_id) == (
            first.pk,
            first.campaign.created_at,
            first.campaign.organization_id,
        )
        assert again.campaign.created_at.utcoffset() is not None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            prepared = [row[0] for row in cursor.fetchall()]
        assert any(s.startswith('SELECT t."key"') for s in prepared)
        assert any(s.startswith('SELECT m."id"') for s in prepared)


def test_a_prepared_cursor_is_a_plain_cursor_off_postgresql_and_logs_its_queries(
    django_assert_num_queries,
):
    with django_assert_num_queries(1), prepared_cursor() as cursor:
        cursor.execute("SELECT %s", [7])
        assert cursor.fetchone() == (7,)
    if connection.vendor != "postgresql":
        assert type(prepared_cursor().cursor) is type(connection.cursor().cursor)
