from __future__ import annotations

import pytest
from django.db import connection

from canvass.imports.voters import voters_import
from canvass.models import ImportRowIssue, ImportRun, Person
from tests.factories import household_make
from tests.imports.conftest import write_csv
from turf.addresses import address_key
from turf.imports.common import ImportFailed

VAN = ["VANID", "LastName", "FirstName", "Address", "Party", "Sex", "Age", "Phone", "Email"]


def door(org, number, street, unit=""):
    household = household_make(org, number=number, street=street, unit=unit)
    # The factory writes a raw key; doors imported by turf.imports.doors get the normalised one.
    household.address_key = address_key(number, street, unit)
    household.save(update_fields=["address_key"])
    return household


def van_row(vanid, address, **kw):
    return [
        vanid,
        kw.get("last", "Silva"),
        kw.get("first", "Ana"),
        address,
        kw.get("party", "D"),
        "F",
        kw.get("age", "40"),
        "(617) 555-0101",
        kw.get("email", ""),
    ]


@pytest.fixture
def doors(org):
    return {
        "aberdeen": door(org, "14", "Aberdeen Ave"),
        "first": door(org, "3", "First St"),
        "mt": door(org, "7-A", "Mt Auburn St"),
        "apt2": door(org, "20", "Oak Ter", unit="2"),
        "apt3": door(org, "20", "Oak Ter", unit="3"),
    }


def test_it_matches_people_to_doors_by_normalised_address(org, doors, tmp_path):
    path = write_csv(
        tmp_path / "v.csv",
        VAN,
        [
            van_row("V1", "14 ABERDEEN AVENUE"),
            van_row("V2", "3 1st Street"),
            van_row("V3", "7A Mount Auburn St."),
            van_row("V4", "20 oak terrace, Apt #02"),
            van_row("V5", "20 Oak Ter Unit 3"),
        ],
    )

    run = voters_import(organization=org, path=path, preset="van")

    assert (run.total_rows, run.created_count, run.matched_count, run.unmatched_count) == (
        5,
        5,
        5,
        0,
    )
    homes = dict(Person.objects.values_list("external_voter_id", "household_id"))
    assert homes == {
        "V1": doors["aberdeen"].pk,
        "V2": doors["first"].pk,
        "V3": doors["mt"].pk,
        "V4": doors["apt2"].pk,
        "V5": doors["apt3"].pk,
    }
    person = Person.objects.get(external_voter_id="V1")
    assert (person.party, person.sex, person.phone, person.source) == (
        "D",
        "F",
        "6175550101",
        "voter_file",
    )
    assert person.year_of_birth is not None


def test_it_matches_an_unknown_unit_to_the_building_door(org, doors, tmp_path):
    path = write_csv(
        tmp_path / "v.csv",
        VAN,
        [van_row("V1", "14 Aberdeen Ave Apt 5"), van_row("V2", "20 Oak Ter #9")],
    )

    run = voters_import(organization=org, path=path, preset="van")

    # Rule: the building's door without a unit if any, else its lowest-id door.
    homes = dict(Person.objects.values_list("external_voter_id", "household_id"))
    assert homes == {"V1": doors["aberdeen"].pk, "V2": doors["apt2"].pk}
    assert (run.matched_count, run.options["matched_building"]) == (2, 2)


def test_it_imports_unmatched_people_without_a_household_and_reports_them(org, doors, tmp_path):
    path = write_csv(
        tmp_path / "v.csv",
        VAN,
        [
            van_row("V1", "14 Aberdeen Ave"),
            van_row("V2", "99 Nowhere St"),
            van_row("V3", "PO Box 12"),
        ],
    )

    run = voters_import(organization=org, path=path, preset="van")

    assert (run.created_count, run.matched_count, run.unmatched_count) == (3, 1, 2)
    assert dict(Person.objects.values_list("external_voter_id", "household_id")) == {
        "V1": doors["aberdeen"].pk,
        "V2": None,
        "V3": None,
    }
    issues = list(ImportRowIssue.objects.filter(run=run).values_list("row_number", "code", "raw"))
    assert [(n, c, r["VANID"]) for n, c, r in issues] == [
        (3, "unmatched_address", "V2"),
        (4, "unmatched_address", "V3"),
    ]
    assert "'99 Nowhere St' matches no door (key 99|NOWHERE ST|)" in (
        ImportRowIssue.objects.get(row_number=3).message
    )


def test_it_is_idempotent_and_updates_only_changed_people(org, doors, tmp_path):
    rows = [van_row("V1", "14 Aberdeen Ave"), van_row("V2", "3 First St")]
    voters_import(organization=org, path=write_csv(tmp_path / "a.csv", VAN, rows), preset="van")
    stamps = dict(Person.objects.values_list("external_voter_id", "updated_at"))

    again = voters_import(
        organization=org, path=write_csv(tmp_path / "b.csv", VAN, rows), preset="van"
    )
    rows[1] = van_row("V2", "3 First St", party="R")
    changed = voters_import(
        organization=org, path=write_csv(tmp_path / "c.csv", VAN, rows), preset="van"
    )

    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)
    assert (changed.created_count, changed.updated_count, changed.unchanged_count) == (0, 1, 1)
    assert Person.objects.count() == 2
    after = dict(Person.objects.values_list("external_voter_id", "updated_at"))
    assert after["V1"] == stamps["V1"]
    assert after["V2"] > stamps["V2"]
    assert Person.objects.get(external_voter_id="V2").party == "R"


def test_it_reports_rows_without_an_id_or_with_a_repeated_id(org, doors, tmp_path):
    path = write_csv(
        tmp_path / "v.csv",
        VAN,
        [
            van_row("", "14 Aberdeen Ave"),
            van_row("V1", "14 Aberdeen Ave"),
            van_row("V1", "3 First St"),
            van_row("V2", "3 First St", age="old", email="not-an-email"),
        ],
    )

    run = voters_import(organization=org, path=path, preset="van")

    assert (run.total_rows, run.created_count, run.error_count) == (4, 2, 2)
    assert Person.objects.get(external_voter_id="V1").household_id == doors["aberdeen"].pk
    v2 = Person.objects.get(external_voter_id="V2")
    assert (v2.year_of_birth, v2.email) == (None, "")
    assert list(ImportRowIssue.objects.filter(run=run).values_list("row_number", "code")) == [
        (2, "missing_value"),
        (4, "duplicate_id"),
        (5, "invalid_value"),
        (5, "invalid_value"),
    ]


def test_it_imports_the_projects_own_format(org, doors, tmp_path):
    path = write_csv(
        tmp_path / "v.csv",
        [
            "external_voter_id",
            "first_name",
            "last_name",
            "house_number",
            "street",
            "unit",
            "year_of_birth",
            "party",
        ],
        [["P1", "Wei", "Chen", "20", "Oak Terrace", "3", "1980", "Green-Rainbow"]],
    )

    run = voters_import(organization=org, path=path, preset="project")

    person = Person.objects.get()
    assert (person.household_id, person.year_of_birth, person.party) == (
        doors["apt3"].pk,
        1980,
        "J",
    )
    assert run.matched_count == 1


def test_it_rejects_missing_columns_naming_them_and_stores_nothing(org, tmp_path):
    path = write_csv(tmp_path / "v.csv", ["VANID", "LastName"], [["V1", "Silva"]])

    with pytest.raises(ImportFailed) as caught:
        voters_import(organization=org, path=path, preset="van")

    assert caught.value.code == "missing_columns"
    assert caught.value.fields["missing_columns"] == ["Address"]
    assert not Person.objects.exists()
    assert ImportRun.objects.get().status == "failed"


def test_it_rejects_an_explicit_mapping_naming_absent_columns(org, tmp_path):
    path = write_csv(tmp_path / "v.csv", ["id", "addr"], [["V1", "1 A St"]])

    with pytest.raises(ImportFailed) as caught:
        voters_import(
            organization=org,
            path=path,
            mapping={"external_voter_id": "id", "address": "addr", "phone": "Tel"},
        )

    assert caught.value.code == "missing_columns"
    assert "Tel" in caught.value.message
    assert not Person.objects.exists()


def test_it_rolls_back_everything_when_a_late_row_is_badly_encoded(org, doors, tmp_path):
    rows = [van_row(f"V{i}", "14 Aberdeen Ave Apt 9") for i in range(2500)]
    rows.append(van_row("VX", "14 Aberdeen Ave", last="Müller"))
    path = write_csv(tmp_path / "v.csv", VAN, rows, encoding="latin-1")

    with pytest.raises(ImportFailed) as caught:
        voters_import(organization=org, path=path, preset="van")

    assert caught.value.code == "bad_encoding"
    assert caught.value.fields["line"] == 2502
    assert not Person.objects.exists()
    assert not ImportRowIssue.objects.exists()
    assert ImportRun.objects.get().status == "failed"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="planner statistics are refreshed on PostgreSQL"
)
def test_it_refreshes_the_planners_statistics_of_the_people_it_wrote(org, doors, tmp_path):
    def planner_rows() -> float:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                [Person._meta.db_table],
            )
            return cursor.fetchone()[0]

    before = planner_rows()
    path = write_csv(
        tmp_path / "v.csv", VAN, [van_row(f"V{n}", "14 ABERDEEN AVENUE") for n in range(37)]
    )

    voters_import(organization=org, path=path, preset="van")

    # Before: never analyzed (-1), or what an earlier test's import left (statistics outlive a
    # rolled-back transaction). After: the 37 new people, seen by ANALYZE inside the test's
    # transaction.
    assert before != 37
    assert planner_rows() == Person.objects.count() == 37
