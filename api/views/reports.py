from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import CampaignScopedMixin
from api.serializers.reports import ContactReportOutput, ContactReportQuery
from canvass.access import STAFF_ROLES
from canvass.models import Role
from canvass.reports import ReportWindow, campaign_canvasser_breakdown, campaign_contact_report


class ContactReportView(CampaignScopedMixin, APIView):
    """Contact rates for a campaign: attempts, contacts, rate, doors per hour, turf completion,
    support distribution and goal progress. Aggregates only (no voter PII), so candidates
    (viewers) see it too; the per-canvasser breakdown is for staff only."""

    allowed_roles = frozenset({Role.DIRECTOR, Role.ORGANIZER, Role.VIEWER})

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, description="ISO 8601 with offset: knocks at or after."),
            OpenApiParameter("until", str, description="ISO 8601 with offset: knocks before."),
            OpenApiParameter("turf", int, description="Only this turf."),
        ],
        responses={200: ContactReportOutput},
        operation_id="campaign_contact_report",
    )
    def get(self, request: Request, campaign_id: int) -> Response:
        membership = self.get_membership()
        query = ContactReportQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        window = ReportWindow(
            since=query.validated_data.get("since"),
            until=query.validated_data.get("until"),
            turf_id=query.validated_data.get("turf"),
        )
        report = asdict(campaign_contact_report(campaign=membership.campaign, window=window))
        if membership.role in STAFF_ROLES:
            report["canvassers"] = campaign_canvasser_breakdown(
                campaign=membership.campaign, window=window
            )
        return Response(ContactReportOutput(report).data)
