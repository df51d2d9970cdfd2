"""The turf packet: everything an offline app needs to knock one turf (DESIGN.md §6).

- `turf_packet_version(turf=, membership=)`: the packet's ETag from ONE query, before any
  body is built: a fingerprint of exactly the columns the packet shows (doors and households,
  their people, door results, the campaign's result codes, the active script's questions,
  options and branching), plus the turf row and the caller's phone/party visibility. It
  changes exactly when something in the packet changes (a knock result, a person edit, a
  script or result-code edit, the sharing rules), whatever wrote it: it hashes content, so a
  bulk `.update()` that leaves `updated_at` alone still changes it.
  `turf_packet_stamp(turf=, membership=)` gives the ETag and the fingerprint of each part.
- `turf_packet_body(turf=, membership=, etag=, fingerprints=)`: the rendered JSON bytes, from
  the Django cache keyed by turf and ETag (locmem here, Redis in production) or built by
  `turf_packet_build` (a fixed number of queries whatever the turf's size, plain dicts) and
  cached. A repeat fetch or a 304 revalidation costs the version query only. Built with the
  fingerprints, the sections a knock leaves alone (doors, people, result codes, script) are
  cached too, each under the fingerprint of exactly what it shows: the rebuild after a knock
  reads the door results only (1 query instead of 8).

Race: the version is read before the body is built, so a change committed in between lands in
a body (or section) stored under the older fingerprint: it is never older than its ETag, and
the next fetch sees a new version and rebuilds, so no client ever keeps a stale packet.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.core.cache import cache
from django.db import connection

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


def _doors(turf: Turf) -> list[tuple[Any, ...]]:
    return list(
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


def _people(turf: Turf, show_phone: bool, show_party: bool) -> dict[int, list[dict[str, Any]]]:
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
    return people_by_door


def _results(campaign_id: int, turf: Turf) -> dict[int, dict[str, Any]]:
    return {
        household_id: {
            "result_code": code,
            "effective_time": when.isoformat().replace("+00:00", "Z"),
            "attempts": attempts,
            "ever_contacted": contacted,
            "is_final": final,
        }
        for household_id, code, when, attempts, contacted, final in HouseholdResult.objects.filter(
            campaign_id=campaign_id, household__turf_doors__turf=turf
        ).values_list(
            "household_id",
            "result_code__code",
            "effective_time",
            "attempts",
            "ever_contacted",
            "is_final",
        )
    }


def _result_codes(campaign_id: int) -> list[dict[str, Any]]:
    return [
        {"code": code, "label": label, "is_contact": contact, "is_final": final, "position": pos}
        for code, label, contact, final, pos in ResultCode.objects.filter(
            campaign_id=campaign_id, is_active=True
        )
        .order_by("position", "pk")
        .values_list("code", "label", "is_contact", "is_final", "position")
    ]


def turf_packet_build(
    *, turf: Turf, membership: Membership, fingerprints: Sequence[str | None] | None = None
) -> dict[str, Any]:
    """The packet of `turf` for the caller (authorize with `canvass.access.turf_for_user`).

    With `fingerprints` (the version query's parts, see `turf_packet_stamp`), the sections a
    knock does not touch (doors, people, result codes, script) come from the cache under the
    fingerprint of exactly what they show, and only the door results are read: the common
    rebuild is the one right after a knock."""
    campaign = membership.campaign
    show_phone, show_party = packet_shows_phone_and_party(membership)
    builders: dict[str, tuple[Callable[[], Any], tuple[Any, ...]]] = {
        "doors": (lambda: _doors(turf), (turf.pk,)),
        "people": (
            lambda: _people(turf, show_phone, show_party),
            (turf.pk, show_phone, show_party),
        ),
        "codes": (lambda: _result_codes(campaign.pk), (campaign.pk,)),
        "script": (lambda: _script(campaign.pk), (campaign.pk,)),
    }
    sections: dict[str, Any] = {}
    if fingerprints is None:
        sections = {name: build() for name, (build, _) in builders.items()}
    else:
        keys = {
            name: _section_key(name, scope, [fingerprints[i] for i in _SECTION_PARTS[name]])
            for name, (_, scope) in builders.items()
        }
        found = cache.get_many(list(keys.values()))
        missing: dict[str, Any] = {}
        for name, (build, _) in builders.items():
            if keys[name] in found:
                sections[name] = found[keys[name]]
            else:
                sections[name] = missing[keys[name]] = build()
        if missing:
            cache.set_many(missing, PACKET_CACHE_SECONDS)
    doors = sections["doors"]
    people_by_door = sections["people"]
    results = _results(campaign.pk, turf)

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
        "script": sections["script"],
        "result_codes": sections["codes"],
        "show_phone": show_phone,
        "show_party": show_party,
    }


# Which parts of the version query (`_version_sql`, in order: doors, people, door results,
# result codes, script, questions, options, show-if links) fingerprint each cached section.
_SECTION_PARTS: dict[str, tuple[int, ...]] = {
    "doors": (0,),
    "people": (1,),
    "codes": (3,),
    "script": (4, 5, 6, 7),
}


def _section_key(name: str, scope: tuple[Any, ...], parts: Sequence[str | None]) -> str:
    digest = hashlib.sha256(json.dumps([PACKET_FORMAT, *scope, *parts]).encode()).hexdigest()
    return f"turf-packet-{name}:{digest[:40]}"


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
    """The packet's canonical JSON bytes (what is sent)."""
    return json.dumps(packet, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


# Bump when the packet's shape or the fingerprint changes: old cached bodies are never served.
PACKET_FORMAT = 2
# Bodies hold voter data: kept in the app's own cache only, and not for long.
PACKET_CACHE_SECONDS = 15 * 60


def _rows(select: str, where: str, order: str) -> str:
    """A scalar subquery folding rows into one text value, in a stable order.

    `select` is a list of SQL expressions; each is cast to text (NULL -> '~') so the
    fingerprint reads the same on PostgreSQL and SQLite. PostgreSQL returns the md5 of the text
    (32 characters on the wire); SQLite has no hash function and returns the text itself."""
    exprs = " || ',' || ".join(
        f"COALESCE(CAST({e.strip()} AS TEXT), '~')" for e in select.split(",")
    )
    if connection.vendor == "postgresql":
        return f"(SELECT md5(string_agg({exprs}, ';' ORDER BY {order})) {where})"
    # SQLite keeps the subquery's order in group_concat.
    return f"(SELECT group_concat(x, ';') FROM (SELECT {exprs} AS x {where} ORDER BY {order}))"


def _version_sql() -> str:
    door = "FROM turf_turfdoor td JOIN turf_household h ON h.id = td.household_id"
    person_cols = (
        "p.id, p.household_id, p.first_name, p.middle_name, p.last_name, p.suffix, "
        "p.year_of_birth, p.language, p.registration_status, p.is_deceased, p.has_moved, "
        "p.source, p.phone, p.party"
    )
    script = (
        "(SELECT s.id FROM canvass_script s WHERE s.campaign_id = %(campaign)s AND s.is_active)"
    )
    parts = [
        _rows(
            "td.position, h.id, h.house_number, h.street, h.unit, h.city, h.zip_code, h.lon, "
            "h.lat, h.building_key, h.is_final, h.final_reason",
            f"{door} WHERE td.turf_id = %(turf)s",
            "td.position, h.id",
        ),
        _rows(
            person_cols,
            "FROM canvass_person p JOIN turf_turfdoor td ON td.household_id = p.household_id "
            "WHERE td.turf_id = %(turf)s",
            "p.id",
        ),
        _rows(
            "r.household_id, r.result_code_id, r.effective_time, r.attempts, "
            "r.ever_contacted, r.is_final",
            "FROM canvass_householdresult r JOIN turf_turfdoor td "
            "ON td.household_id = r.household_id "
            "WHERE td.turf_id = %(turf)s AND r.campaign_id = %(campaign)s",
            "r.household_id",
        ),
        _rows(
            "c.id, c.code, c.label, c.is_contact, c.is_final, c.position, c.is_active",
            "FROM canvass_resultcode c WHERE c.campaign_id = %(campaign)s",
            "c.id",
        ),
        _rows(
            "s.id, s.name, s.introduction",
            "FROM canvass_script s WHERE s.campaign_id = %(campaign)s AND s.is_active",
            "s.id",
        ),
        _rows(
            "q.id, q.key, q.prompt, q.kind, q.position, q.show_if_question_id",
            f"FROM canvass_question q WHERE q.script_id = {script}",
            "q.id",
        ),
        _rows(
            "o.id, o.question_id, o.value, o.label, o.position",
            "FROM canvass_responseoption o JOIN canvass_question q ON q.id = o.question_id "
            f"WHERE q.script_id = {script}",
            "o.id",
        ),
        _rows(
            "l.question_id, l.responseoption_id",
            "FROM canvass_question_show_if_options l JOIN canvass_question q "
            f"ON q.id = l.question_id WHERE q.script_id = {script}",
            "l.question_id, l.responseoption_id",
        ),
    ]
    return "SELECT " + ", ".join(parts)


def turf_packet_stamp(*, turf: Turf, membership: Membership) -> tuple[str, list[str | None]]:
    """The packet's ETag (strong, quoted) and the fingerprints of its parts, from one query;
    see the module docstring."""
    with connection.cursor() as cursor:
        cursor.execute(_version_sql(), {"turf": turf.pk, "campaign": membership.campaign_id})
        parts: list[str | None] = list(cursor.fetchone() or ())
    show_phone, show_party = packet_shows_phone_and_party(membership)
    head = json.dumps(
        [
            PACKET_FORMAT,
            turf.pk,
            membership.campaign_id,
            turf.name,
            turf.list_number,
            turf.version,
            turf.status,
            turf.polygon,
            show_phone,
            show_party,
        ],
        sort_keys=True,
    )
    digest = hashlib.sha256(head.encode())
    for part in parts:
        digest.update(b"\x1e" + (part or "").encode())
    return '"' + digest.hexdigest()[:32] + '"', parts


def turf_packet_version(*, turf: Turf, membership: Membership) -> str:
    """The packet's ETag (strong, quoted), from one query; see the module docstring."""
    return turf_packet_stamp(turf=turf, membership=membership)[0]


def turf_packet_body(
    *,
    turf: Turf,
    membership: Membership,
    etag: str,
    fingerprints: Sequence[str | None] | None = None,
) -> bytes:
    """The packet's JSON bytes for `etag` (from `turf_packet_stamp`): cached, or built (from
    cached sections when `fingerprints` are given) and cached."""
    key = f"turf-packet:{turf.pk}:{etag.strip(chr(34))}"
    body: bytes | None = cache.get(key)
    if body is None:
        packet = turf_packet_build(turf=turf, membership=membership, fingerprints=fingerprints)
        body = packet_json(packet)
        cache.set(key, body, PACKET_CACHE_SECONDS)
    return body
