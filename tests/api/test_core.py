from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_it_issues_a_token_for_good_credentials(director, client_for):
    response = client_for(None).post(
        "/api/auth/token/", {"username": "director", "password": "pw-director"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "user_id", "username"}
    assert body["username"] == "director"
    me = client_for(None)
    me.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert me.get("/api/me/").json()["username"] == "director"


@pytest.mark.django_db
def test_it_refuses_a_token_for_a_wrong_password(director, client_for):
    response = client_for(None).post(
        "/api/auth/token/", {"username": "director", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "authentication_failed"
    assert "token" not in response.json()


@pytest.mark.django_db
def test_it_requires_authentication_with_the_error_shape(client_for, campaign):
    response = client_for(None).get("/api/campaigns/")
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "fields": {},
        }
    }


@pytest.mark.django_db
def test_it_lists_only_the_callers_campaigns(
    director, outsider, campaign, outsider_campaign, client_for
):
    response = client_for(director).get("/api/campaigns/")
    assert response.status_code == 200
    names = [c["name"] for c in response.json()["results"]]
    assert names == ["Rivera for State Rep"]
    assert response.json()["results"][0]["my_role"] == "director"
    assert response.json()["results"][0]["goals"] == [
        {"metric": "doors_knocked", "target": 1000, "due_date": None}
    ]


@pytest.mark.django_db
def test_it_answers_404_for_another_organizations_campaign(director, outsider_campaign, client_for):
    response = client_for(director).get(f"/api/campaigns/{outsider_campaign.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "Other" not in response.content.decode()


@pytest.mark.django_db
def test_it_rejects_malformed_nested_and_nul_json(director, client_for):
    client = client_for(director)
    bad = client.generic(
        "POST", "/api/auth/token/", b'{"username": ', content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "malformed_json"
    deep = client.generic(
        "POST",
        "/api/auth/token/",
        ("[" * 5000 + "]" * 5000).encode(),
        content_type="application/json",
    )
    assert deep.status_code == 400 and deep.json()["error"]["code"] == "too_deep"
    nul = client.generic(
        "POST",
        "/api/auth/token/",
        b'{"username": "a\\u0000b", "password": "x"}',
        content_type="application/json",
    )
    assert nul.status_code == 400 and nul.json()["error"]["code"] == "nul_byte"


@pytest.mark.django_db
def test_it_answers_413_for_a_body_over_the_limit(director, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client_for(director).generic(
        "POST",
        "/api/auth/token/",
        ('{"username": "' + "a" * 2000 + '"}').encode(),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert response.json()["error"]["fields"] == {"limit_bytes": "1000"}
