from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from canvass.imports.voters import voters_import
from canvass.models import ImportRowIssue, ImportRun, Person
from tests.factories import household_make, square
from turf.addresses import address_key
from turf.models import District, Household

VAN_CSV = (
    "VANID,LastName,FirstName,Address,Party,Age\n"
    "V1,Silva,Ana,14 Aberdeen Avenue,D,40\n"
    "V2,Chen,Wei,99 Nowhere St Apt 4,U,33\n"
)


def url(campaign, suffix=""):
    return f"/api/campaigns/{campaign.pk}/imports/{suffix}"


def upload(content: str | bytes, name="voters.csv"):
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.fixture
def aberdeen(org):
    household = household_make(org, number="14", street="Aberdeen Ave")
    household.address_key = address_key("14", "Aberdeen Ave")
    household.save(update_fields=["address_key"])
    return household


def test_it_imports_a_voter_file_for_a_director(client_for, director, campaign, aberdeen):
    response = client_for(director).post(
        url(campaign, "voters/"),
        {"file": upload(VAN_CSV), "preset": "van"},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    run = ImportRun.objects.get()
    assert body["id"] == run.pk
    assert {k: body[k] for k in ("kind", "status", "source_name", "preset")} == {
        "kind": "voters",
        "status": "succeeded",
        "source_name": "voters.csv",
        "preset": "van",
    }
    assert (body["total_rows"], body["created_count"], body["matched_count"]) == (2, 2, 1)
    assert (body["unmatched_count"], body["issue_count"]) == (1, 1)
    assert dict(Person.objects.values_list("external_voter_id", "household_id")) == {
        "V1": aberdeen.pk,
        "V2": None,
    }
    assert run.created_by == director


def test_it_takes_a_mapping_as_json_in_the_form(client_for, director, campaign, aberdeen):
    content = "id,addr\nX1,14 aberdeen ave\n"
    response = client_for(director).post(
        url(campaign, "voters/"),
        {
            "file": upload(content),
            "mapping": json.dumps({"external_voter_id": "id", "address": "addr"}),
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    assert Person.objects.get().household_id == aberdeen.pk


@pytest.mark.parametrize("role", ["organizer", "canvasser", "viewer"])
def test_it_refuses_imports_to_other_roles(request, client_for, campaign, role):
    user = request.getfixturevalue(role)

    response = client_for(user).post(
        url(campaign, "voters/"), {"file": upload(VAN_CSV), "preset": "van"}, format="multipart"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Person.objects.exists()
    assert not ImportRun.objects.exists()


def test_it_answers_404_to_a_director_of_another_organization(client_for, outsider, campaign):
    response = client_for(outsider).post(
        url(campaign, "voters/"), {"file": upload(VAN_CSV), "preset": "van"}, format="multipart"
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not ImportRun.objects.exists()


def test_it_answers_a_broken_file_with_the_error_shape_and_stores_nothing(
    client_for, director, campaign
):
    response = client_for(director).post(
        url(campaign, "voters/"),
        {"file": upload("VANID,LastName\nV1,Silva\n"), "preset": "van"},
        format="multipart",
    )

    assert response.status_code == 400
    run = ImportRun.objects.get()
    assert response.json() == {
        "error": {
            "code": "missing_columns",
            "message": "The voter file lacks the column(s) Address (it has: VANID, LastName).",
            "fields": {"missing_columns": ["Address"], "import_id": str(run.pk)},
        }
    }
    assert run.status == "failed"
    assert not Person.objects.exists()


def test_it_rejects_a_request_without_preset_or_mapping(client_for, director, campaign):
    response = client_for(director).post(
        url(campaign, "voters/"), {"file": upload(VAN_CSV)}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_mapping"
    assert not Person.objects.exists()


def test_it_imports_districts_from_a_json_body(client_for, director, campaign, org):
    door = household_make(org, lon=-71.115, lat=42.375)
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"N": "P1"}, "geometry": square(-71.12, 42.37)}
        ],
    }

    response = client_for(director).post(
        url(campaign, "districts/"),
        {"geojson": geojson, "kind": "precinct", "name_property": "N"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["created_count"] == 1
    district = District.objects.get(organization=org)
    assert (district.kind, district.name) == ("precinct", "P1")
    assert list(door.districts.all()) == [district]


def test_it_imports_districts_from_an_uploaded_file(client_for, director, campaign, org):
    geojson = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"N": "S1"}, "geometry": square(-71.12, 42.37)}
            ],
        }
    )
    response = client_for(director).post(
        url(campaign, "districts/"),
        {"file": upload(geojson, "s.geojson"), "kind": "state_senate", "name_property": "N"},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    assert District.objects.filter(organization=org, kind="state_senate", name="S1").exists()


def test_it_imports_doors_from_an_uploaded_csv(client_for, director, campaign, org):
    content = (
        "address_id,house_number,street,bldg_id,units_est,lon,lat\n7,1,Elm St,,1,-71.1,42.37\n"
    )

    response = client_for(director).post(
        url(campaign, "doors/"),
        {"file": upload(content, "doors.csv"), "preset": "cambridge"},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["created_count"] == 1
    assert Household.objects.filter(organization=org, external_id="7", state="MA").exists()


def _run_with_issues(org, tmp_path, director):
    path = tmp_path / "v.csv"
    path.write_text(VAN_CSV)
    return voters_import(organization=org, path=path, preset="van", created_by=director)


def test_it_lists_and_shows_the_organizations_runs(
    client_for,
    director,
    campaign,
    org,
    outsider_org,
    aberdeen,
    tmp_path,
    django_assert_max_num_queries,
):
    mine = _run_with_issues(org, tmp_path, director)
    ImportRun.objects.create(organization=outsider_org, kind="voters")
    client = client_for(director)

    # Constant: token + membership + count + page, however many runs there are.
    with django_assert_max_num_queries(6):
        listed = client.get(url(campaign))
    detail = client.get(url(campaign, f"{mine.pk}/"))

    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["results"]] == [mine.pk]
    assert detail.status_code == 200
    assert detail.json()["unmatched_count"] == 1


def test_it_hides_another_organizations_run(client_for, director, campaign, outsider_org):
    theirs = ImportRun.objects.create(organization=outsider_org, kind="voters")

    response = client_for(director).get(url(campaign, f"{theirs.pk}/"))
    download = client_for(director).get(url(campaign, f"{theirs.pk}/unmatched.csv"))

    assert response.status_code == 404
    assert download.status_code == 404


def test_it_downloads_the_unmatched_rows_as_csv(
    client_for, director, campaign, org, aberdeen, tmp_path
):
    run = _run_with_issues(org, tmp_path, director)

    response = client_for(director).get(url(campaign, f"{run.pk}/unmatched.csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert f'filename="import-{run.pk}-issues.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "row_number",
        "code",
        "message",
        "VANID",
        "LastName",
        "FirstName",
        "Address",
        "Party",
        "Age",
    ]
    assert len(rows) == 2
    assert rows[1][:2] == ["3", "unmatched_address"]
    assert rows[1][3:] == ["V2", "Chen", "Wei", "99 Nowhere St Apt 4", "U", "33"]
    assert ImportRowIssue.objects.filter(run=run).count() == 1


def test_it_refuses_the_download_to_a_canvasser(
    client_for, canvasser, director, campaign, org, tmp_path
):
    run = _run_with_issues(org, tmp_path, director)

    response = client_for(canvasser).get(url(campaign, f"{run.pk}/unmatched.csv"))

    assert response.status_code == 403
