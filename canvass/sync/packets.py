"""The turf packet: everything an offline app needs to knock one turf (DESIGN.md §6).

`turf_packet_build` is a selector: a fixed number of queries whatever the turf's size (turf
doors + households, people, door results, result codes, script questions, options, branching
links), returned as plain JSON-ready dicts. `turf_packet_etag` hashes the canonical JSON of
the packet, so the ETag changes exactly when something in it changes (a knock result, a person
edit, a script or result-code edit, the campaign's sharing rules) and never otherwise.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from canvass.models import (
    HouseholdResult,
    Membership,
    Person,
    Question,
    ResponseOption,
    ResultCode,
    Role,
    Script,
)
from turf.models import Turf, TurfDoor

# What a canvasser needs to greet and identify a voter at the door: no email, no external
# voter id, no birth date beyond the year. Phone and party only where the campaign allows.
_PERSON_FIELDS = (
    "pk",
    "household_id",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "year_of_birth",
    "language",
    "registration_status",
    "is_deceased",
    "has_moved",
    "source",
)


def packet_shows_phone_and_party(membership: Membership) -> tuple[bool, bool]:
    """Staff see phone and party; canvassers only where the campaign allows each."""
    campaign = membership.campaign
    if membership.role in (Role.DIRECTOR, Role.ORGANIZER):
        return True, True
    return campaign.show_phone_to_canvassers, campaign.show_party_to_canvassers


def turf_packet_build(*, turf: Turf, membership: Membership) -> dict[str, Any]:
    """The packet of `turf` for the caller (authorize with `canvass.access.turf_for_user`)."""
    campaign = membership.campaign
    show_phone, show_party = packet_shows_phone_and_party(membership)

    doors = list(
        TurfDoor.objects.filter(turf=turf)
        .order_by("position")
        .values_list(
            "position",
            "household_id",
            "household__house_number",
            "household__street",
            "household__unit",
            "household__city",
            "household__zip_code",
            "household__lon",
            "household__lat",
            "household__building_key",
            "household__is_final",
            "household__final_reason",
        )
    )
    fields = list(_PERSON_FIELDS)
    if show_phone:
        fields.append("phone")
    if show_party:
        fields.append("party")
    people_by_door: dict[int, list[dict[str, Any]]] = {}
    for row in (
        Person.objects.filter(household__turf_doors__turf=turf)
        .order_by("household_id", "last_name", "first_name", "pk")
        .values(*fields)
    ):
        household_id = row.pop("household_id")
        row["id"] = row.pop("pk")
        people_by_door.setdefault(household_id, []).append(row)

    results = {
        household_id: {
            "result_code": code,
            "effective_time": when.isoformat().replace("+00:00", "Z"),
            "attempts": attempts,
            "ever_contacted": contacted,
            "is_final": final,
        }
        for household_id, code, when, attempts, contacted, final in HouseholdResult.objects.filter(
            campaign_id=campaign.pk, household__turf_doors__turf=turf
        ).values_list(
            "household_id",
            "result_code__code",
            "effective_time",
            "attempts",
            "ever_contacted",
            "is_final",
        )
    }

    households = []
    for (
        position,
        household_id,
        number,
        street,
        unit,
        city,
        zip_code,
        lon,
        lat,
        building_key,
        is_final,
        final_reason,
    ) in doors:
        last = results.get(household_id)
        households.append(
            {
                "id": household_id,
                "position": position,
                "house_number": number,
                "street": street,
                "unit": unit,
                "city": city,
                "zip_code": zip_code,
                "lon": lon,
                "lat": lat,
                "building_key": building_key,
                # Final for the organization (moved/deceased, nobody left) or in this campaign.
                "is_final": bool(is_final or (last and last["is_final"])),
                "final_reason": final_reason,
                "last_result": last,
                "people": people_by_door.get(household_id, []),
            }
        )

    return {
        "turf": {
            "id": turf.pk,
            "campaign_id": campaign.pk,
            "name": turf.name,
            "list_number": turf.list_number,
            "version": turf.version,
            "status": turf.status,
            "door_count": len(households),
            "polygon": turf.polygon,
        },
        "households": households,
        "script": _script(campaign.pk),
        "result_codes": [
            {
                "code": code,
                "label": label,
                "is_contact": contact,
                "is_final": final,
                "position": position,
            }
            for code, label, contact, final, position in ResultCode.objects.filter(
                campaign_id=campaign.pk, is_active=True
            )
            .order_by("position", "pk")
            .values_list("code", "label", "is_contact", "is_final", "position")
        ],
        "show_phone": show_phone,
        "show_party": show_party,
    }


def _script(campaign_id: int) -> dict[str, Any] | None:
    """The active script with its questions, options and show-if branching (3-4 queries)."""
    script = (
        Script.objects.filter(campaign_id=campaign_id, is_active=True)
        .values("pk", "name", "introduction")
        .first()
    )
    if script is None:
        return None
    questions = list(
        Question.objects.filter(script_id=script["pk"])
        .order_by("position", "pk")
        .values("pk", "key", "prompt", "kind", "position", "show_if_question__key")
    )
    options: dict[int, list[dict[str, Any]]] = {}
    for question_id, value, label in (
        ResponseOption.objects.filter(question__script_id=script["pk"])
        .order_by("question_id", "position", "pk")
        .values_list("question_id", "value", "label")
    ):
        options.setdefault(question_id, []).append({"value": value, "label": label})
    show_if: dict[int, list[str]] = {}
    for question_id, value in (
        Question.show_if_options.through.objects.filter(question__script_id=script["pk"])
        .order_by("responseoption__position", "responseoption_id")
        .values_list("question_id", "responseoption__value")
    ):
        show_if.setdefault(question_id, []).append(value)
    return {
        "id": script["pk"],
        "name": script["name"],
        "introduction": script["introduction"],
        "questions": [
            {
                "key": q["key"],
                "prompt": q["prompt"],
                "kind": q["kind"],
                "position": q["position"],
                "options": options.get(q["pk"], []),
                "show_if": (
                    {"question": q["show_if_question__key"], "options": show_if.get(q["pk"], [])}
                    if q["show_if_question__key"]
                    else None
                ),
            }
            for q in questions
        ],
    }


def packet_json(packet: dict[str, Any]) -> bytes:
    """The packet's canonical JSON bytes (what is sent and what the ETag hashes)."""
    return json.dumps(packet, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def turf_packet_etag(body: bytes) -> str:
    """A strong ETag: the SHA-256 of the canonical JSON body (first 32 hex digits)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
