"""Contact-rate reports (DESIGN.md product point 4). Aggregates only: no voter PII ever leaves
this module, so the same figures can be shown to candidates (viewers) and to field directors.

Definitions (stable, documented in the API):
- attempts: contact attempts (knocks) recorded in the campaign in the window;
- doors_knocked: distinct households with at least one attempt;
- contacts: attempts whose result code is a contact; contact_rate = contacts / attempts;
- doors_per_hour: doors knocked per canvassing hour, where a canvasser's hours are the spans of
  their shifts (knocks by one canvasser with gaps under SHIFT_GAP, counted from the first to the
  last knock plus DOOR_MINUTES for the last door);
- turf completion: for published turfs, the share of their doors with at least one attempt and
  the share that are final (a final result, or the door itself marked final);
- support: current supporter scores (1 strong support ... 5 strong oppose) of people in the
  campaign;
- goals: progress toward each CampaignGoal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q

from canvass.models import (
    Campaign,
    CampaignGoal,
    ContactAttempt,
    GoalMetric,
    HouseholdResult,
    Person,
    RegistrationStatus,
    SupporterScore,
    SyncItemKind,
    SyncLedgerEntry,
    VolunteerSignup,
)

SHIFT_GAP = timedelta(hours=1)
DOOR_MINUTES = timedelta(minutes=3)


@dataclass(frozen=True)
class ReportWindow:
    since: datetime | None = None
    until: datetime | None = None
    turf_id: int | None = None


@dataclass
class ContactReport:
    attempts: int
    doors_knocked: int
    contacts: int
    contact_rate: float | None
    canvassing_hours: float
    doors_per_hour: float | None
    canvassers_active: int
    results: list[dict[str, Any]]
    support: dict[str, int]
    turfs: list[dict[str, Any]]
    goals: list[dict[str, Any]]
    signups: int
    voter_registrations: int
    window: dict[str, Any] = field(default_factory=dict)


def _attempts(campaign: Campaign, window: ReportWindow):  # type: ignore[no-untyped-def]
    qs = ContactAttempt.objects.filter(campaign=campaign)
    if window.since is not None:
        qs = qs.filter(effective_time__gte=window.since)
    if window.until is not None:
        qs = qs.filter(effective_time__lt=window.until)
    if window.turf_id is not None:
        qs = qs.filter(turf_id=window.turf_id)
    return qs


def _canvassing_hours(times_by_canvasser: dict[int, list[datetime]]) -> float:
    total = timedelta()
    for times in times_by_canvasser.values():
        times.sort()
        start = previous = times[0]
        for t in times[1:]:
            if t - previous > SHIFT_GAP:
                total += previous - start + DOOR_MINUTES
                start = t
            previous = t
        total += previous - start + DOOR_MINUTES
    return total.total_seconds() / 3600


def campaign_contact_report(
    *, campaign: Campaign, window: ReportWindow | None = None
) -> ContactReport:
    """Aggregate contact figures for a campaign. A fixed number of queries, whatever the size
    (the shift computation reads one (canvasser, time) pair per attempt, two small columns)."""
    window = window or ReportWindow()
    attempts = _attempts(campaign, window)

    totals = attempts.aggregate(
        attempts=Count("id"),
        contacts=Count("id", filter=Q(result_code__is_contact=True)),
        doors=Count("household_id", distinct=True),
        canvassers=Count("canvasser_id", distinct=True),
    )
    results = list(
        attempts.values("result_code__code", "result_code__label", "result_code__is_contact")
        .annotate(count=Count("id"))
        .order_by("-count", "result_code__code")
    )

    times_by_canvasser: dict[int, list[datetime]] = {}
    for canvasser_id, when in attempts.values_list("canvasser_id", "effective_time").iterator(
        chunk_size=5000
    ):
        times_by_canvasser.setdefault(canvasser_id, []).append(when)
    hours = _canvassing_hours(times_by_canvasser) if times_by_canvasser else 0.0

    support = {str(score): 0 for score in range(1, 6)}
    for row in (
        SupporterScore.objects.filter(campaign=campaign)
        .values("score")
        .annotate(n=Count("id"))
        .order_by("score")
    ):
        support[str(row["score"])] = row["n"]

    turfs = _turf_completion(campaign, window)

    signups = VolunteerSignup.objects.filter(campaign=campaign).count()
    new_people_ids = SyncLedgerEntry.objects.filter(
        campaign=campaign, kind=SyncItemKind.NEW_PERSON
    ).values("object_id")
    registrations = Person.objects.filter(
        organization_id=campaign.organization_id,
        registration_status=RegistrationStatus.PENDING,
        pk__in=[
            int(x) for x in new_people_ids.values_list("object_id", flat=True) if str(x).isdigit()
        ],
    ).count()

    goal_values: dict[str, int] = {
        GoalMetric.DOORS_KNOCKED: totals["doors"],
        GoalMetric.CONTACTS: totals["contacts"],
        GoalMetric.SIGNUPS: signups,
        GoalMetric.VOTER_REGISTRATIONS: registrations,
    }
    goals = [
        {
            "metric": goal.metric,
            "target": goal.target,
            "achieved": goal_values.get(goal.metric, 0),
            "progress": round(goal_values.get(goal.metric, 0) / goal.target, 4)
            if goal.target
            else None,
            "due_date": goal.due_date.isoformat() if goal.due_date else None,
        }
        for goal in CampaignGoal.objects.filter(campaign=campaign).order_by("metric")
    ]

    n_attempts = totals["attempts"]
    return ContactReport(
        attempts=n_attempts,
        doors_knocked=totals["doors"],
        contacts=totals["contacts"],
        contact_rate=round(totals["contacts"] / n_attempts, 4) if n_attempts else None,
        canvassing_hours=round(hours, 2),
        doors_per_hour=round(totals["doors"] / hours, 2) if hours > 0 else None,
        canvassers_active=totals["canvassers"],
        results=[
            {
                "code": r["result_code__code"],
                "label": r["result_code__label"],
                "is_contact": r["result_code__is_contact"],
                "count": r["count"],
            }
            for r in results
        ],
        support=support,
        turfs=turfs,
        goals=goals,
        signups=signups,
        voter_registrations=registrations,
        window={
            "since": window.since.isoformat() if window.since else None,
            "until": window.until.isoformat() if window.until else None,
            "turf_id": window.turf_id,
        },
    )


def _turf_completion(campaign: Campaign, window: ReportWindow) -> list[dict[str, Any]]:
    from turf.models import Turf, TurfDoor, TurfStatus

    turfs = Turf.objects.filter(campaign=campaign, status=TurfStatus.PUBLISHED)
    if window.turf_id is not None:
        turfs = turfs.filter(pk=window.turf_id)
    turf_rows = list(turfs.values("id", "list_number", "door_count").order_by("list_number", "id"))
    if not turf_rows:
        return []
    turf_ids = [t["id"] for t in turf_rows]
    results = HouseholdResult.objects.filter(campaign=campaign)
    attempted_households = results.values("household_id")
    final_households = results.filter(is_final=True).values("household_id")
    per_turf = {
        row["turf_id"]: row
        for row in TurfDoor.objects.filter(turf_id__in=turf_ids)
        .values("turf_id")
        .annotate(
            doors=Count("id"),
            attempted=Count("id", filter=Q(household_id__in=attempted_households)),
            final=Count(
                "id", filter=Q(household_id__in=final_households) | Q(household__is_final=True)
            ),
        )
        .order_by()
    }
    out = []
    for t in turf_rows:
        row = per_turf.get(t["id"], {"doors": 0, "attempted": 0, "final": 0})
        doors = row["doors"]
        out.append(
            {
                "turf_id": t["id"],
                "list_number": t["list_number"],
                "doors": doors,
                "doors_attempted": row["attempted"],
                "doors_final": row["final"],
                "completion": round(row["attempted"] / doors, 4) if doors else None,
            }
        )
    return out


def campaign_canvasser_breakdown(
    *, campaign: Campaign, window: ReportWindow | None = None
) -> list[dict[str, Any]]:
    """Per-canvasser figures for staff (canvasser usernames, never voter data)."""
    window = window or ReportWindow()
    attempts = _attempts(campaign, window)
    rows = list(
        attempts.values("canvasser_id", "canvasser__username")
        .annotate(
            attempts=Count("id"),
            contacts=Count("id", filter=Q(result_code__is_contact=True)),
            doors=Count("household_id", distinct=True),
        )
        .order_by("canvasser__username")
    )
    times: dict[int, list[datetime]] = {}
    for canvasser_id, when in attempts.values_list("canvasser_id", "effective_time").iterator(
        chunk_size=5000
    ):
        times.setdefault(canvasser_id, []).append(when)
    out = []
    for row in rows:
        hours = _canvassing_hours({row["canvasser_id"]: times[row["canvasser_id"]]})
        out.append(
            {
                "canvasser": row["canvasser__username"],
                "attempts": row["attempts"],
                "doors_knocked": row["doors"],
                "contacts": row["contacts"],
                "contact_rate": round(row["contacts"] / row["attempts"], 4)
                if row["attempts"]
                else None,
                "canvassing_hours": round(hours, 2),
                "doors_per_hour": round(row["doors"] / hours, 2) if hours > 0 else None,
            }
        )
    return out
