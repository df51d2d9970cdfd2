"""The native sync API (DESIGN.md §6): turf packets and the batch push with receipts."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiError
from api.serializers.sync import ContactBatchInput, ContactBatchOutput, TurfPacketOutput
from canvass.access import team_turf_ids, turf_for_user
from canvass.errors import Forbidden
from canvass.models import Membership, Role
from canvass.sync.merge import batch_too_large, sync_batch_merge
from canvass.sync.packets import turf_packet_body, turf_packet_stamp

logger = logging.getLogger(__name__)

PACKET_ROLES = frozenset({Role.DIRECTOR, Role.ORGANIZER, Role.CANVASSER})


def _etag_matches(header: str, etag: str) -> bool:
    """RFC 9110 weak comparison (GZipMiddleware weakens the ETag it compresses)."""
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


class TurfPacketView(APIView):
    """Everything an offline app needs for one turf: households in walk order with their
    people and last result, the script, result codes, the polygon. Canvassers get the packets
    of turfs assigned to them now (anything else: 404); directors and organizers of the
    campaign may fetch any (organizers: their team's turfs). Send `If-None-Match` with the
    last ETag to get a 304 when nothing changed."""

    @extend_schema(
        operation_id="turf_packet_retrieve",
        parameters=[
            OpenApiParameter(
                "If-None-Match",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="The ETag of the packet you hold.",
            )
        ],
        responses={200: TurfPacketOutput, 304: OpenApiResponse(description="Not modified.")},
    )
    def get(self, request: Request, turf_id: int) -> HttpResponse:
        turf, membership = turf_for_user(user=request.user, turf_id=turf_id, roles=PACKET_ROLES)
        if membership.role == Role.ORGANIZER and not _organizer_may_see(membership, turf.pk):
            raise Forbidden("Organizers get the packets of their team's turfs only.")
        # The ETag comes first (one query): a revalidation never builds the body, and a
        # repeat fetch takes it from the cache.
        etag, fingerprints = turf_packet_stamp(turf=turf, membership=membership)
        if _etag_matches(request.headers.get("If-None-Match", ""), etag):
            response = HttpResponse(status=304)
        else:
            body = turf_packet_body(
                turf=turf, membership=membership, etag=etag, fingerprints=fingerprints
            )
            response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        # A packet holds voter data: never in a shared cache; revalidate every time.
        response["Cache-Control"] = "private, no-cache"
        response["Vary"] = "Authorization, Accept-Encoding"
        return response


def _organizer_may_see(membership: Membership, turf_id: int) -> bool:
    if membership.team_id is None:
        return False
    return team_turf_ids(membership).filter(turf_id=turf_id).exists()


class ContactBatchView(APIView):
    """Push a batch of contact attempts, sign-ups, new people and corrections recorded
    offline. One receipt per item, in order: `created`, `duplicate` (same id, same content:
    nothing changed) or `rejected` with a stable `reason`. Valid items are stored even when
    others are rejected. Retrying a batch is always safe. At most SYNC_MAX_ITEMS items (413
    beyond). A 503 `sync_unavailable` means nothing from the batch was stored: retry it."""

    @extend_schema(
        operation_id="sync_contacts_create",
        request=ContactBatchInput,
        responses={200: ContactBatchOutput},
    )
    def post(self, request: Request) -> Response:
        data = request.data
        # Refuse an oversized batch before validating a single item.
        items = data.get("items") if isinstance(data, dict) else None
        if isinstance(items, list) and len(items) > settings.SYNC_MAX_ITEMS:
            raise batch_too_large(len(items))
        payload = ContactBatchInput(data=data)
        payload.is_valid(raise_exception=True)
        try:
            result = sync_batch_merge(
                user=request.user,
                device_id=payload.validated_data["device_id"],
                items=payload.validated_data["items"],
                campaign_id=payload.validated_data.get("campaign_id"),
            )
        except DatabaseError as exc:
            # The batch's transaction rolled back as a whole: nothing is half-written, and
            # a retry is safe (items are idempotent by client id).
            logger.warning("sync batch rolled back: %s", exc)
            error = ApiError(
                "The batch could not be stored right now; nothing from it was kept. Retry it.",
                code="sync_unavailable",
                status_code=503,
            )
            raise error from exc
        receipts = [r.as_dict() for r in result.receipts]
        summary = {"created": 0, "duplicate": 0, "rejected": 0}
        for receipt in receipts:
            summary[receipt["status"]] += 1
        # Built as plain dicts: the receipts are already JSON-ready (hot path, see the bench).
        return Response(
            {"campaign_id": result.campaign_id, "receipts": receipts, "summary": summary}
        )
