"""WatermelonDB sync protocol endpoints (DESIGN.md §6): parse, authorize, call one service."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiError
from api.serializers.watermelon import (
    TABLES_HELP,
    WatermelonPullOutput,
    WatermelonPushInput,
    WatermelonPushOutput,
)
from canvass.sync import watermelon

_CAMPAIGN = OpenApiParameter(
    "campaign_id",
    OpenApiTypes.INT,
    description="The campaign to sync; optional when you have a role in exactly one.",
)
_DEVICE = OpenApiParameter(
    "X-Device-Id",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description="The device's stable id: records this device created come back as `updated`. "
    "Required for a push.",
)
_LAST = OpenApiParameter(
    "last_pulled_at",
    OpenApiTypes.STR,
    description="The `timestamp` of the previous pull (ms), or `null` for a first sync.",
)

_PROTOCOL = f"""
Ids are strings (decimal server ids; lowercase hyphenated UUIDs for records born on a
device), foreign keys `<x>_id` strings, times milliseconds since the epoch (JSON numbers),
JSON-valued columns JSON-encoded strings. Tables and columns:

{TABLES_HELP}

The pull window is `(last_pulled_at - margin, timestamp]`: rows stamped just before a pull but
committed after it are re-sent as `updated` by the next pull (see canvass/sync/watermelon.py).
"""


class WatermelonPullView(APIView):
    @extend_schema(
        operation_id="sync_pull",
        summary="WatermelonDB pull",
        description="Changes to the caller's assigned turfs since `last_pulled_at`." + _PROTOCOL,
        parameters=[
            _LAST,
            OpenApiParameter(
                "schema_version", OpenApiTypes.INT, description="The app's schema version."
            ),
            OpenApiParameter(
                "migration",
                OpenApiTypes.STR,
                description='WatermelonDB migration info as JSON, e.g. {"from": 1, "tables": '
                '["volunteer_signups"], "columns": []}, or null.',
            ),
            _CAMPAIGN,
            _DEVICE,
        ],
        responses={200: WatermelonPullOutput},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        last_pulled_at = watermelon.last_pulled_at_parse(params.get("last_pulled_at"))
        schema_version = watermelon.schema_version_parse(params.get("schema_version"))
        migration = watermelon.migration_parse(params.get("migration"))
        device_id = watermelon.device_id_parse(request.headers.get("X-Device-Id"))
        membership = watermelon.sync_membership_resolve(
            user=request.user, campaign_id=params.get("campaign_id")
        )
        body = watermelon.watermelon_pull(
            membership=membership,
            device_id=device_id,
            last_pulled_at=last_pulled_at,
            schema_version=schema_version,
            migration=migration,
        )
        return Response(body)


class WatermelonPushView(APIView):
    @extend_schema(
        operation_id="sync_push",
        summary="WatermelonDB push",
        description="Apply a device's changes all-or-nothing. 409 `sync_conflict` when a pushed "
        "record changed on the server after `last_pulled_at`: pull, then push again. Read-only "
        "tables answer 400 `read_only_table`; unknown tables/columns `unknown_table` / "
        "`unknown_column`; bad ids `invalid_id`." + _PROTOCOL,
        parameters=[_LAST, _CAMPAIGN, _DEVICE],
        request=WatermelonPushInput,
        responses={200: WatermelonPushOutput},
    )
    def post(self, request: Request) -> Response:
        data = request.data
        if not isinstance(data, dict) or "changes" not in data:
            raise ApiError(
                'The body must be an object {"changes": {...}, "last_pulled_at": <ms>}.',
                code="invalid_changes",
                fields={"changes": ["This field is required."]},
            )
        unknown = sorted(set(data) - {"changes", "last_pulled_at"})
        if unknown:
            raise ApiError(
                f"Unknown field {unknown[0][:60]!r}.",
                code="unknown_field",
                fields={unknown[0][:60]: ["Unknown field."]},
            )
        from_query = watermelon.last_pulled_at_parse(request.query_params.get("last_pulled_at"))
        from_body = watermelon.last_pulled_at_parse(data.get("last_pulled_at"))
        if from_query is not None and from_body is not None and from_query != from_body:
            raise ApiError(
                "last_pulled_at differs between the query string and the body.",
                code="invalid_last_pulled_at",
                fields={"last_pulled_at": ["Query and body disagree."]},
            )
        last_pulled_at = from_body if from_body is not None else from_query
        if last_pulled_at is None:
            raise ApiError(
                "A push needs last_pulled_at: pull first.",
                code="invalid_last_pulled_at",
                fields={"last_pulled_at": ["This field is required."]},
            )
        device_id = watermelon.device_id_parse(request.headers.get("X-Device-Id"))
        membership = watermelon.sync_membership_resolve(
            user=request.user, campaign_id=request.query_params.get("campaign_id")
        )
        applied = watermelon.watermelon_push(
            membership=membership,
            device_id=device_id,
            last_pulled_at=last_pulled_at,
            changes=data["changes"],
        )
        return Response(WatermelonPushOutput({"ok": True, "applied": applied}).data)
