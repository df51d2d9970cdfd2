"""Reads of import runs. Runs belong to the organization (the voter universe), and only the
field directors of one of its campaigns may see them (the row issues hold raw voter-file rows)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from canvass.errors import NotFound
from canvass.models import ImportRowIssue, ImportRun, Membership, Role


def import_runs_visible_to(membership: Membership) -> QuerySet[ImportRun]:
    if membership.role != Role.DIRECTOR:
        return ImportRun.objects.none()
    return ImportRun.objects.filter(organization_id=membership.campaign.organization_id)


def import_run_get(*, membership: Membership, run_id: int | str) -> ImportRun:
    try:
        pk = int(run_id)
    except (TypeError, ValueError):
        raise NotFound("Import not found.") from None
    run = import_runs_visible_to(membership).filter(pk=pk).first()
    if run is None:
        raise NotFound("Import not found.")
    return run


def import_issues_iter(run: ImportRun) -> Iterator[ImportRowIssue]:
    """The run's row issues in file order, streamed (a voter file may have 100,000 of them)."""
    return run.issues.order_by("row_number", "id").iterator(chunk_size=2_000)
