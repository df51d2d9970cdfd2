from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from api.errors import ApiError
from api.permissions import CampaignScopedMixin
from api.serializers.core import CampaignOutput, MeOutput, TokenObtainInput, TokenObtainOutput
from canvass.access import campaigns_visible_to
from canvass.models import Membership


class TokenObtainView(APIView):
    """Exchange a username and password for an API token (sent as `Authorization: Token <key>`)."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        request=TokenObtainInput,
        responses={200: TokenObtainOutput},
        operation_id="auth_token_create",
    )
    def post(self, request: Request) -> Response:
        data = TokenObtainInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise ApiError(
                "Wrong username or password.", code="authentication_failed", status_code=400
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response(
            TokenObtainOutput(
                {"token": token.key, "user_id": user.pk, "username": user.get_username()}
            ).data,
            status=status.HTTP_200_OK,
        )


class MeView(APIView):
    @extend_schema(responses={200: MeOutput}, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        user = request.user
        user.memberships_prefetched = None
        memberships = Membership.objects.filter(user=user).select_related("campaign", "team")
        payload = MeOutput(user).data
        payload["memberships"] = [
            {
                "campaign_id": m.campaign_id,
                "campaign_name": m.campaign.name,
                "role": m.role,
                "team": m.team.name if m.team else None,
            }
            for m in memberships
        ]
        return Response(payload)


class CampaignListView(generics.ListAPIView):
    """Campaigns the caller has a role in."""

    serializer_class = CampaignOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return (
            campaigns_visible_to(self.request.user).prefetch_related("goals").order_by("name", "id")
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context: dict[str, Any] = super().get_serializer_context()
        context["roles"] = dict(
            Membership.objects.filter(user=self.request.user).values_list("campaign_id", "role")
        )
        return context


class CampaignDetailView(CampaignScopedMixin, APIView):
    @extend_schema(responses={200: CampaignOutput}, operation_id="campaign_retrieve")
    def get(self, request: Request, campaign_id: int) -> Response:
        membership = self.get_membership()
        return Response(
            CampaignOutput(
                membership.campaign, context={"roles": {campaign_id: membership.role}}
            ).data
        )
