from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from canvass.models import Organization, Person
from tests.imports.conftest import write_csv
from turf.models import District, Household


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_it_imports_doors_creating_the_org_and_prints_progress_and_a_summary(db, doors_csv):
    output = run(
        "import_doors", str(doors_csv), "--org", "new-org", "--create-org", "--preset", "cambridge"
    )

    org = Organization.objects.get(slug="new-org")
    assert Household.objects.filter(organization=org).count() == 5
    assert "5 rows: 5 created, 0 updated, 0 unchanged, 0 not imported" in output
    assert "Address points import #" in output
    assert "rows 5, created 5, updated 0, unchanged 0" in output


def test_it_imports_districts_and_voters_with_a_summary(org, doors_csv, squares_geojson, tmp_path):
    run("import_doors", str(doors_csv), "--org", org.slug, "--preset", "cambridge")
    districts = run(
        "import_districts",
        str(squares_geojson),
        "--org",
        org.slug,
        "--kind",
        "precinct",
        "--name-property",
        "WardPrecinct",
        "--parent-kind",
        "ward",
        "--parent-property",
        "Ward",
        "--dissolve",
    )
    voters = write_csv(
        tmp_path / "v.csv",
        ["VANID", "LastName", "Address"],
        [["V1", "Silva", "14 Aberdeen Avenue"], ["V2", "Chen", "1 Nowhere St"]],
    )
    output = run("import_voters", str(voters), "--org", org.slug, "--preset", "van")

    assert "created 2" in districts and "district links" in districts
    assert District.objects.filter(organization=org, kind="ward", name="1").exists()
    assert "matched 1, unmatched 1" in output
    assert "1 unmatched rows are listed in import #" in output
    assert Person.objects.filter(organization=org).count() == 2


def test_it_fails_with_a_command_error_naming_the_problem(org, tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')

    with pytest.raises(CommandError, match=r"no_features: The GeoJSON has no features\."):
        run(
            "import_districts",
            str(path),
            "--org",
            org.slug,
            "--kind",
            "ward",
            "--name-property",
            "N",
        )

    assert not District.objects.exists()


def test_it_refuses_an_unknown_org_without_create_org(db, doors_csv):
    with pytest.raises(CommandError, match=r"No organization with slug 'nope'\. Pass --create-org"):
        run("import_doors", str(doors_csv), "--org", "nope", "--preset", "cambridge")

    assert not Organization.objects.exists()
