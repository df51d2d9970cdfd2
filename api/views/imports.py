"""Imports for field directors: districts, doors, the voter file; runs and their row issues.

Every endpoint is director-only (other roles 403; a campaign the caller has no role in 404).
Imports run synchronously inside the request for now: the Cambridge doors take a few seconds, a
100,000-row voter file well under a minute. The scale path is a task queue (DESIGN.md §7): the
view would store the upload and enqueue the same importer, returning the `running` ImportRun.
A failed import answers 400 with a stable code and `fields.import_id`; nothing is stored.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.parsers import StrictJSONParser
from api.permissions import DIRECTOR_ONLY, CampaignScopedMixin
from api.serializers.imports import (
    DistrictImportInput,
    DoorImportInput,
    ImportRunOutput,
    VoterImportInput,
)
from canvass.imports.selectors import import_issues_iter, import_run_get, import_runs_visible_to
from canvass.imports.voters import voters_import
from turf.imports.districts import districts_import_geojson
from turf.imports.doors import doors_import

UPLOAD_PARSERS = [MultiPartParser, FormParser]


def _created(run: Any) -> Response:
    return Response(ImportRunOutput(run).data, status=status.HTTP_201_CREATED)


class DistrictImportView(CampaignScopedMixin, APIView):
    allowed_roles = DIRECTOR_ONLY
    parser_classes = [StrictJSONParser, *UPLOAD_PARSERS]

    @extend_schema(
        request={
            "multipart/form-data": DistrictImportInput,
            "application/json": DistrictImportInput,
        },
        responses={201: ImportRunOutput},
        operation_id="import_districts_create",
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        membership = self.get_membership()
        data = DistrictImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        source = v.get("file") or io.BytesIO(json.dumps(v["geojson"]).encode())
        run = districts_import_geojson(
            organization=membership.campaign.organization,
            fp_or_path=source,
            kind=v["kind"],
            name_property=v["name_property"],
            code_property=v.get("code_property") or None,
            parent_kind=v.get("parent_kind") or None,
            parent_property=v.get("parent_property") or None,
            dissolve=v["dissolve"],
            repair=v["repair"],
            created_by=request.user,
        )
        return _created(run)


class DoorImportView(CampaignScopedMixin, APIView):
    allowed_roles = DIRECTOR_ONLY
    parser_classes = UPLOAD_PARSERS

    @extend_schema(
        request={"multipart/form-data": DoorImportInput},
        responses={201: ImportRunOutput},
        operation_id="import_doors_create",
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        membership = self.get_membership()
        data = DoorImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        upload = v["file"]
        fmt = v.get("format") or (
            "geojson" if str(upload.name).lower().endswith(("json", "geojson")) else "csv"
        )
        run = doors_import(
            organization=membership.campaign.organization,
            path=upload,
            fmt=fmt,
            preset=v.get("preset"),
            mapping=v.get("mapping"),
            encoding=v["encoding"],
            created_by=request.user,
        )
        return _created(run)


class VoterImportView(CampaignScopedMixin, APIView):
    allowed_roles = DIRECTOR_ONLY
    parser_classes = UPLOAD_PARSERS

    @extend_schema(
        request={"multipart/form-data": VoterImportInput},
        responses={201: ImportRunOutput},
        operation_id="import_voters_create",
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        membership = self.get_membership()
        data = VoterImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        run = voters_import(
            organization=membership.campaign.organization,
            path=v["file"],
            preset=v.get("preset"),
            mapping=v.get("mapping"),
            encoding=v["encoding"],
            created_by=request.user,
        )
        return _created(run)


class ImportRunListView(CampaignScopedMixin, generics.ListAPIView):
    """Import runs of the campaign's organization, newest first."""

    allowed_roles = DIRECTOR_ONLY
    serializer_class = ImportRunOutput
    filter_backends: list[type] = []

    @extend_schema(operation_id="import_runs_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return import_runs_visible_to(self.get_membership()).order_by("-started_at", "-id")


class ImportRunDetailView(CampaignScopedMixin, APIView):
    allowed_roles = DIRECTOR_ONLY

    @extend_schema(responses={200: ImportRunOutput}, operation_id="import_run_retrieve")
    def get(self, request: Request, campaign_id: int, run_id: int) -> Response:
        run = import_run_get(membership=self.get_membership(), run_id=run_id)
        return Response(ImportRunOutput(run).data)


class _Echo:
    def write(self, value: str) -> str:
        return value


class ImportIssuesCsvView(CampaignScopedMixin, APIView):
    """The run's row issues as CSV: unmatched addresses first of all, and rows not imported.

    Columns: row_number, code, message, then the row's own columns as read from the file, so
    the list can be fixed in a spreadsheet and re-imported (imports are idempotent)."""

    allowed_roles = DIRECTOR_ONLY

    @extend_schema(
        responses={200: OpenApiResponse(OpenApiTypes.BINARY, description="text/csv")},
        operation_id="import_run_unmatched_csv",
    )
    def get(self, request: Request, campaign_id: int, run_id: int) -> StreamingHttpResponse:
        run = import_run_get(membership=self.get_membership(), run_id=run_id)
        columns = [str(c) for c in (run.options or {}).get("columns") or []]
        response = StreamingHttpResponse(_issue_lines(run, columns), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-issues.csv"'
        return response


def _issue_lines(run: Any, columns: list[str]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    issues = import_issues_iter(run)
    first = next(issues, None)
    if not columns and first is not None and isinstance(first.raw, dict):
        columns = [str(k) for k in first.raw]
    yield writer.writerow(["row_number", "code", "message", *columns])
    if first is not None:
        yield _issue_row(writer, first, columns)
    for issue in issues:
        yield _issue_row(writer, issue, columns)


def _issue_row(writer: Any, issue: Any, columns: list[str]) -> str:
    raw = issue.raw if isinstance(issue.raw, dict) else {}
    written: str = writer.writerow(
        [issue.row_number, issue.code, issue.message, *(raw.get(c, "") for c in columns)]
    )
    return written
