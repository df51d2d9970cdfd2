"""Editing drafts: draw, split, merge, move doors; published turfs are frozen."""

from __future__ import annotations

import pytest

from tests.turfs.conftest import COLS, LAT0, LON0, STEP_LAT, STEP_LON, box
from turf.models import Turf, TurfDoor


def doors_of(turf: Turf) -> list[int]:
    return list(turf.turf_doors.order_by("position").values_list("household_id", flat=True))


def all_door_rows() -> list[tuple[int, int]]:
    return sorted(TurfDoor.objects.values_list("turf_id", "household_id"))


# Column c of the grid sits at lon LON0 + 0.0005 + c * STEP_LON; a box over columns 0-1:
LEFT_TWO_COLUMNS = box(LON0, LAT0, LON0 + 0.0005 + 1.5 * STEP_LON, LAT0 + 0.01)


@pytest.mark.django_db
def test_it_draws_a_turf_from_the_doors_inside_a_polygon(director, campaign, grid, client_for):
    response = client_for(director).post(
        f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": LEFT_TWO_COLUMNS, "name": "West"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    turf = Turf.objects.get()
    expected = {grid.at(r, c).pk for r in range(6) for c in (0, 1)}
    assert set(doors_of(turf)) == expected
    assert body["id"] == turf.pk
    assert body["name"] == "West"
    assert body["door_count"] == 12
    assert body["status"] == "draft"
    assert body["metrics"]["doors"] == 12
    assert body["polygon"]["type"] == "Polygon"


@pytest.mark.django_db
def test_it_leaves_out_doors_of_other_drafts_when_drawing(director, campaign, grid, client_for):
    client = client_for(director)
    first = client.post(f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": LEFT_TWO_COLUMNS})
    wider = box(LON0, LAT0, LON0 + 0.0005 + 2.5 * STEP_LON, LAT0 + 0.01)
    second = client.post(f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": wider})
    assert second.status_code == 201
    assert second.json()["door_count"] == 6  # only column 2: columns 0-1 belong to the first
    assert Turf.objects.get(pk=first.json()["id"]).door_count == 12


@pytest.mark.django_db
def test_it_steals_doors_from_other_drafts_only_when_asked(director, campaign, grid, client_for):
    client = client_for(director)
    first = client.post(f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": LEFT_TWO_COLUMNS})
    one_column = box(LON0, LAT0, LON0 + 0.0005 + 0.5 * STEP_LON, LAT0 + 0.01)
    refused = client.post(f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": one_column})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "no_doors"
    assert Turf.objects.count() == 1

    stolen = client.post(
        f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": one_column, "steal": True}
    )
    assert stolen.status_code == 201
    first_turf = Turf.objects.get(pk=first.json()["id"])
    assert first_turf.door_count == 6
    assert set(doors_of(first_turf)) == {grid.at(r, 1).pk for r in range(6)}
    assert len(all_door_rows()) == 12  # no door in two drafts


@pytest.mark.django_db
@pytest.mark.parametrize(
    "polygon",
    [
        box(-70.0, 41.0, -69.99, 41.01),  # nowhere near a door
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [LON0, LAT0],
                    [LON0 + 0.01, LAT0 + 0.01],
                    [LON0 + 0.01, LAT0],
                    [LON0, LAT0 + 0.01],
                    [LON0, LAT0],
                ]
            ],
        },  # bow tie: self-intersecting
        {"type": "Polygon", "coordinates": [[[LON0, LAT0], [LON0 + 0.01, LAT0]]]},
        {"type": "Point", "coordinates": [LON0, LAT0]},
        {"type": "Polygon", "coordinates": "nope"},
        {"type": "Polygon", "coordinates": [[[500, 42], [501, 42], [501, 43], [500, 42]]]},
        "not geojson",
    ],
)
def test_it_refuses_a_bad_or_empty_polygon_and_saves_nothing(
    director, campaign, grid, client_for, polygon
):
    response = client_for(director).post(
        f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": polygon}
    )
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] in {"invalid_geometry", "no_doors"}
    assert Turf.objects.count() == 0
    assert TurfDoor.objects.count() == 0


@pytest.mark.django_db
def test_it_splits_a_turf_with_a_line(director, campaign, grid, client_for):
    client = client_for(director)
    turf_id = client.post(
        f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": LEFT_TWO_COLUMNS}
    ).json()["id"]
    mid_lat = LAT0 + 0.0005 + 2.5 * STEP_LAT  # between rows 2 and 3
    line = {"type": "LineString", "coordinates": [[LON0 - 0.001, mid_lat], [LON0 + 0.005, mid_lat]]}
    response = client.post(f"/api/turfs/{turf_id}/split/", {"line": line})
    assert response.status_code == 200, response.json()
    turfs = response.json()["turfs"]
    assert [t["door_count"] for t in turfs] == [6, 6]
    a, b = (Turf.objects.get(pk=t["id"]) for t in turfs)
    south = {grid.at(r, c).pk for r in range(3) for c in (0, 1)}
    assert {frozenset(doors_of(a)), frozenset(doors_of(b))} == {
        frozenset(south),
        frozenset({grid.at(r, c).pk for r in range(3, 6) for c in (0, 1)}),
    }
    assert a.pk == turf_id
    assert len(all_door_rows()) == 12


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("line", "code"),
    [
        # Entirely south of every door.
        (
            {"type": "LineString", "coordinates": [[LON0 - 0.001, LAT0], [LON0 + 0.01, LAT0]]},
            "line_does_not_split",
        ),
        # Starts and ends inside the turf: does not cross it.
        (
            {
                "type": "LineString",
                "coordinates": [[LON0 + 0.0008, LAT0 + 0.004], [LON0 + 0.0012, LAT0 + 0.004]],
            },
            "line_does_not_split",
        ),
        ({"type": "LineString", "coordinates": [[LON0, LAT0]]}, "invalid_geometry"),
        ({"type": "Polygon", "coordinates": []}, "invalid_geometry"),
        (
            {
                "type": "LineString",
                "coordinates": [
                    [LON0 - 0.001, LAT0 + 0.004],
                    [LON0 + 0.005, LAT0 + 0.004],
                    [LON0 + 0.002, LAT0 + 0.002],
                    [LON0 + 0.002, LAT0 + 0.008],
                ],
            },
            "invalid_geometry",
        ),  # crosses itself
    ],
)
def test_it_refuses_a_line_that_does_not_split_and_changes_nothing(
    director, campaign, grid, client_for, line, code
):
    client = client_for(director)
    turf_id = client.post(
        f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": LEFT_TWO_COLUMNS}
    ).json()["id"]
    before = all_door_rows()
    response = client.post(f"/api/turfs/{turf_id}/split/", {"line": line})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert Turf.objects.count() == 1
    assert all_door_rows() == before


@pytest.mark.django_db
def test_it_merges_two_adjacent_drafts(director, campaign, grid, client_for):
    client = client_for(director)
    west = client.post(
        f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": LEFT_TWO_COLUMNS}
    ).json()["id"]
    next_two = box(
        LON0 + 0.0005 + 1.5 * STEP_LON, LAT0, LON0 + 0.0005 + 3.5 * STEP_LON, LAT0 + 0.01
    )
    east = client.post(f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": next_two}).json()["id"]
    response = client.post(f"/api/turfs/{west}/merge/", {"other": east})
    assert response.status_code == 200, response.json()
    assert response.json()["door_count"] == 24
    assert list(Turf.objects.values_list("pk", flat=True)) == [west]
    merged = doors_of(Turf.objects.get(pk=west))
    assert sorted(merged) == sorted(grid.at(r, c).pk for r in range(6) for c in range(4))
    assert list(
        Turf.objects.get(pk=west).turf_doors.values_list("position", flat=True).order_by("position")
    ) == list(range(24))


@pytest.mark.django_db
def test_it_refuses_to_merge_turfs_that_are_apart(director, campaign, grid, client_for):
    client = client_for(director)
    west = client.post(
        f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": LEFT_TWO_COLUMNS}
    ).json()["id"]
    far_east = box(LON0 + 0.0005 + (COLS - 1.5) * STEP_LON, LAT0, LON0 + 0.01, LAT0 + 0.01)
    east = client.post(f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": far_east}).json()["id"]
    before = all_door_rows()
    response = client.post(f"/api/turfs/{west}/merge/", {"other": east})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "turfs_not_adjacent"
    assert Turf.objects.count() == 2
    assert all_door_rows() == before


@pytest.mark.django_db
def test_it_answers_404_merging_with_a_turf_of_another_campaign(
    director, campaign, sibling_campaign, grid, client_for
):
    from turf.services import turfs as services

    client = client_for(director)
    west = client.post(
        f"/api/campaigns/{campaign.pk}/turfs/", {"polygon": LEFT_TWO_COLUMNS}
    ).json()["id"]
    theirs = services.turf_draw(campaign=sibling_campaign, polygon=LEFT_TWO_COLUMNS)
    response = client.post(f"/api/turfs/{west}/merge/", {"other": theirs.pk})
    assert response.status_code == 404
    assert Turf.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
def test_it_moves_doors_between_drafts_and_recomputes_both(director, campaign, drafts, client_for):
    source, target = drafts[0], drafts[1]
    moving = doors_of(source)[:3]
    response = client_for(director).post(
        f"/api/turfs/{source.pk}/doors/move/", {"household_ids": moving, "to": target.pk}
    )
    assert response.status_code == 200, response.json()
    a, b = response.json()["turfs"]
    assert (a["id"], a["door_count"]) == (source.pk, source.door_count - 3)
    assert (b["id"], b["door_count"]) == (target.pk, target.door_count + 3)
    assert set(moving) <= set(doors_of(Turf.objects.get(pk=target.pk)))
    assert not set(moving) & set(doors_of(Turf.objects.get(pk=source.pk)))
    assert Turf.objects.get(pk=target.pk).metrics["doors"] == target.door_count + 3
    assert TurfDoor.objects.count() == 48


@pytest.mark.django_db
def test_it_refuses_to_move_doors_that_are_not_in_the_turf(director, campaign, drafts, client_for):
    source, target = drafts[0], drafts[1]
    before = all_door_rows()
    response = client_for(director).post(
        f"/api/turfs/{source.pk}/doors/move/",
        {"household_ids": [doors_of(target)[0]], "to": target.pk},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "doors_not_in_turf"
    assert all_door_rows() == before


@pytest.mark.django_db
def test_it_refuses_to_empty_a_turf_by_moving(director, campaign, drafts, client_for):
    source, target = drafts[0], drafts[1]
    response = client_for(director).post(
        f"/api/turfs/{source.pk}/doors/move/", {"household_ids": doors_of(source), "to": target.pk}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "turf_would_be_empty"
    assert Turf.objects.get(pk=source.pk).door_count == source.door_count


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "tail", "payload"),
    [
        (
            "post",
            "split/",
            {
                "line": {
                    "type": "LineString",
                    "coordinates": [[LON0, LAT0 + 0.004], [LON0 + 0.01, LAT0 + 0.004]],
                }
            },
        ),
        ("post", "merge/", {"other": None}),
        ("post", "doors/move/", {"household_ids": None, "to": None}),
        ("patch", "", {"name": "renamed"}),
        ("delete", "", None),
    ],
)
def test_it_refuses_to_edit_a_published_turf(
    director, campaign, drafts, published, client_for, method, tail, payload
):
    other = drafts[1]
    if payload and "other" in payload:
        payload = {"other": other.pk}
    if payload and "to" in payload:
        payload = {"household_ids": doors_of(published)[:1], "to": other.pk}
    before = all_door_rows()
    response = getattr(client_for(director), method)(f"/api/turfs/{published.pk}/{tail}", payload)
    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == "turf_published"
    published.refresh_from_db()
    assert published.status == "published"
    assert published.name != "renamed"
    assert all_door_rows() == before


@pytest.mark.django_db
def test_it_renames_and_deletes_a_draft(director, campaign, drafts, client_for):
    client = client_for(director)
    response = client.patch(f"/api/turfs/{drafts[0].pk}/", {"name": "Harvard Sq <north>"})
    assert response.status_code == 200
    assert response.json()["name"] == "Harvard Sq <north>"
    assert len(response.json()["household_ids"]) == drafts[0].door_count
    response = client.delete(f"/api/turfs/{drafts[1].pk}/")
    assert response.status_code == 204
    assert not Turf.objects.filter(pk=drafts[1].pk).exists()
    assert not TurfDoor.objects.filter(turf_id=drafts[1].pk).exists()
    assert Turf.objects.count() == 3
