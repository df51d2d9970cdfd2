"""Turf endpoints: cut/re-cut (preview + commit), draw, edit, publish, assign, map, layers.

Views parse, authorize (through `canvass.access`), call one service and serialize. Who may do
what: directors everything; organizers view and (un)assign; canvassers list only the turfs
assigned to them and never edit; viewers read turf summaries and the map (no PII).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, renderers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import IdFilter
from api.permissions import DIRECTOR_ONLY, STAFF, CampaignScopedMixin
from api.serializers.turfs import (
    AssignmentCreateInput,
    AssignmentCreateOutput,
    AssignmentOutput,
    CutCommitInput,
    CutPreviewInput,
    CutPreviewOutput,
    CutRunOutput,
    LayerCreateInput,
    LayerOutput,
    RecutCommitInput,
    RecutPreviewInput,
    TurfDetailOutput,
    TurfDoorsMoveInput,
    TurfDrawInput,
    TurfMergeInput,
    TurfOutput,
    TurfPairOutput,
    TurfSplitInput,
    TurfUpdateInput,
)
from canvass.access import turf_for_user, turfs_visible_to
from canvass.errors import NotFound
from canvass.models import Membership, Role
from turf.models import Assignment, District, MapLayer, Turf, TurfDoor, TurfStatus
from turf.services import layers as layer_services
from turf.services import turfs as services

MAP_ROLES = frozenset({Role.DIRECTOR, Role.ORGANIZER, Role.VIEWER})


def _spec(data: dict[str, Any]) -> services.CutSpec:
    return services.CutSpec(
        district_id=data["district_id"],
        target=data.get("target"),
        n_turfs=data.get("n_turfs"),
        group_by=data.get("group_by"),
        layer_ids=data.get("layer_ids"),
        exclude_final=data.get("exclude_final", False),
        only_not_contacted=data.get("only_not_contacted", False),
        supporter_scores=data.get("supporter_scores"),
    )


def _cut_run_body(run: Any) -> dict[str, Any]:
    return dict(CutRunOutput(run).data)


# ---- collection routes: /api/campaigns/{campaign_id}/... -------------------------------------


class TurfFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TurfStatus.choices)
    district = IdFilter(field_name="district_id")

    class Meta:
        model = Turf
        fields = ["status", "district"]


class TurfListCreateView(CampaignScopedMixin, generics.ListAPIView):
    """GET: the campaign's turfs (canvassers: only theirs). POST: draw a draft from a polygon."""

    serializer_class = TurfOutput
    filterset_class = TurfFilter
    roles_by_method = {"POST": DIRECTOR_ONLY}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):
            return Turf.objects.none()
        return turfs_visible_to(self.get_membership()).order_by("pk")

    @extend_schema(operation_id="campaign_turfs_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=TurfDrawInput, responses={201: TurfOutput}, operation_id="campaign_turfs_draw"
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        membership = self.get_membership()
        data = TurfDrawInput(data=request.data)
        data.is_valid(raise_exception=True)
        turf = services.turf_draw(
            campaign=membership.campaign,
            polygon=data.validated_data["polygon"],
            name=data.validated_data["name"],
            district_id=data.validated_data["district_id"],
            steal=data.validated_data["steal"],
            actor=request.user,
        )
        return Response(TurfOutput(turf).data, status=status.HTTP_201_CREATED)


class CutPreviewView(CampaignScopedMixin, APIView):
    allowed_roles = DIRECTOR_ONLY
    input_class: type = CutPreviewInput

    @extend_schema(
        request=CutPreviewInput,
        responses={200: CutPreviewOutput},
        operation_id="campaign_cuts_preview",
        description="Cut a district and return the turfs as GeoJSON with metrics. Saves nothing.",
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        membership = self.get_membership()
        data = self.input_class(data=request.data)
        data.is_valid(raise_exception=True)
        preview = services.turf_cut_preview(
            campaign=membership.campaign, spec=_spec(data.validated_data)
        )
        return Response(preview)


class CutCommitView(CampaignScopedMixin, APIView):
    allowed_roles = DIRECTOR_ONLY
    input_class: type = CutCommitInput

    @extend_schema(
        request=CutCommitInput,
        responses={201: CutRunOutput},
        operation_id="campaign_cuts_commit",
        description="Cut a district and store the turfs as drafts (walk order, polygon, metrics).",
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        membership = self.get_membership()
        data = self.input_class(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.turf_cut_commit(
            campaign=membership.campaign,
            spec=_spec(data.validated_data),
            actor=request.user,
            replace_drafts=data.validated_data["replace_drafts"],
        )
        return Response(_cut_run_body(run), status=status.HTTP_201_CREATED)


class RecutPreviewView(CutPreviewView):
    input_class = RecutPreviewInput

    @extend_schema(
        request=RecutPreviewInput,
        responses={200: CutPreviewOutput},
        operation_id="campaign_recuts_preview",
        description="Re-cut what is left (no final result / not contacted / supporter IDs).",
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        return super().post(request, campaign_id)


class RecutCommitView(CutCommitView):
    input_class = RecutCommitInput

    @extend_schema(
        request=RecutCommitInput,
        responses={201: CutRunOutput},
        operation_id="campaign_recuts_commit",
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        return super().post(request, campaign_id)


class LayerListCreateView(CampaignScopedMixin, generics.ListAPIView):
    """The organization's map layers (barriers, streets); directors import new ones."""

    serializer_class = LayerOutput
    allowed_roles = STAFF
    roles_by_method = {"POST": DIRECTOR_ONLY}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):
            return MapLayer.objects.none()
        membership = self.get_membership()
        return (
            MapLayer.objects.filter(organization_id=membership.campaign.organization_id)
            .defer("features")
            .order_by("kind", "name", "pk")
        )

    @extend_schema(operation_id="campaign_layers_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=LayerCreateInput,
        responses={201: LayerOutput},
        operation_id="campaign_layers_import",
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        membership = self.get_membership()
        data = LayerCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        layer = layer_services.layer_import(
            organization=membership.campaign.organization,
            kind=data.validated_data["kind"],
            name=data.validated_data["name"],
            geojson=data.validated_data["geojson"],
            filter_=data.validated_data["filter"],
            source_name="api",
            actor=request.user,
        )
        return Response(LayerOutput(layer).data, status=status.HTTP_201_CREATED)


class SVGRenderer(renderers.BaseRenderer):
    media_type = "image/svg+xml"
    format = "svg"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):  # type: ignore[no-untyped-def]
        # Only errors reach a renderer (the map itself is returned as a plain HttpResponse):
        # an SVG-only client still gets a readable message.
        from xml.sax.saxutils import escape

        message = ""
        if isinstance(data, dict):
            message = str((data.get("error") or {}).get("message", ""))
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="40">'
            f'<text x="10" y="25">{escape(message)}</text></svg>'
        ).encode()


class TurfMapView(CampaignScopedMixin, APIView):
    """An SVG map of a district's turfs (no tiles), for browsers and reports."""

    allowed_roles = MAP_ROLES
    renderer_classes = [renderers.JSONRenderer, SVGRenderer]

    @extend_schema(
        operation_id="campaign_turfs_map",
        parameters=[
            OpenApiParameter("district", OpenApiTypes.INT, required=True),
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=[*TurfStatus.values, "all"],
                description="Turfs to draw (default: drafts and published).",
            ),
        ],
        responses={(200, "image/svg+xml"): OpenApiResponse(response=OpenApiTypes.STR)},
    )
    def get(self, request: Request, campaign_id: int) -> HttpResponse:
        membership = self.get_membership()
        raw = request.query_params.get("district", "")
        try:
            district_id = int(raw)
        except ValueError:
            raise NotFound(
                "Give ?district=<id> of a district.", fields={"district": [raw]}
            ) from None
        district = District.objects.filter(
            pk=district_id, organization_id=membership.campaign.organization_id
        ).first()
        if district is None:
            raise NotFound("District not found.", fields={"district": [raw]})
        wanted = request.query_params.get("status") or ""
        if wanted == "all":
            statuses: list[str] = list(TurfStatus.values)
        elif wanted in TurfStatus.values:
            statuses = [wanted]
        else:
            statuses = [TurfStatus.DRAFT, TurfStatus.PUBLISHED]
        svg = services.turf_map_svg(
            campaign=membership.campaign, district=district, statuses=statuses
        )
        response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
        # The SVG is rendered from data: forbid scripts even if a label were ever mis-escaped.
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        return response


# ---- object routes: /api/turfs/{turf_id}/... -----------------------------------------------


class TurfDetailView(APIView):
    @extend_schema(responses={200: TurfDetailOutput}, operation_id="turf_retrieve")
    def get(self, request: Request, turf_id: int) -> Response:
        turf, membership = turf_for_user(user=request.user, turf_id=turf_id)
        return Response(_turf_detail(turf, membership))

    @extend_schema(
        request=TurfUpdateInput, responses={200: TurfDetailOutput}, operation_id="turf_update"
    )
    def patch(self, request: Request, turf_id: int) -> Response:
        turf, membership = turf_for_user(user=request.user, turf_id=turf_id, roles=DIRECTOR_ONLY)
        data = TurfUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        turf = services.turf_update(turf=turf, name=data.validated_data["name"], actor=request.user)
        return Response(_turf_detail(turf, membership))

    @extend_schema(responses={204: None}, operation_id="turf_delete")
    def delete(self, request: Request, turf_id: int) -> Response:
        turf, _ = turf_for_user(user=request.user, turf_id=turf_id, roles=DIRECTOR_ONLY)
        services.turf_delete(turf=turf, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _turf_detail(turf: Turf, membership: Membership) -> dict[str, Any]:
    if membership.role == Role.DIRECTOR:
        turf.household_ids = list(  # type: ignore[attr-defined]
            TurfDoor.objects.filter(turf=turf)
            .order_by("position")
            .values_list("household_id", flat=True)
        )
    else:
        turf.household_ids = None  # type: ignore[attr-defined]
    return dict(TurfDetailOutput(turf).data)


class TurfSplitView(APIView):
    @extend_schema(
        request=TurfSplitInput, responses={200: TurfPairOutput}, operation_id="turf_split"
    )
    def post(self, request: Request, turf_id: int) -> Response:
        turf, _ = turf_for_user(user=request.user, turf_id=turf_id, roles=DIRECTOR_ONLY)
        data = TurfSplitInput(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.turf_split(turf=turf, line=data.validated_data["line"], actor=request.user)
        return Response({"turfs": TurfOutput(list(pair), many=True).data})


class TurfMergeView(APIView):
    @extend_schema(request=TurfMergeInput, responses={200: TurfOutput}, operation_id="turf_merge")
    def post(self, request: Request, turf_id: int) -> Response:
        turf, _ = turf_for_user(user=request.user, turf_id=turf_id, roles=DIRECTOR_ONLY)
        data = TurfMergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        merged = services.turf_merge(
            turf=turf, other_id=data.validated_data["other"], actor=request.user
        )
        return Response(TurfOutput(merged).data)


class TurfDoorsMoveView(APIView):
    @extend_schema(
        request=TurfDoorsMoveInput, responses={200: TurfPairOutput}, operation_id="turf_doors_move"
    )
    def post(self, request: Request, turf_id: int) -> Response:
        turf, _ = turf_for_user(user=request.user, turf_id=turf_id, roles=DIRECTOR_ONLY)
        data = TurfDoorsMoveInput(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.turf_doors_move(
            turf=turf,
            household_ids=data.validated_data["household_ids"],
            to_turf_id=data.validated_data["to"],
            actor=request.user,
        )
        return Response({"turfs": TurfOutput(list(pair), many=True).data})


class TurfPublishView(APIView):
    @extend_schema(request=None, responses={200: TurfOutput}, operation_id="turf_publish")
    def post(self, request: Request, turf_id: int) -> Response:
        turf, _ = turf_for_user(user=request.user, turf_id=turf_id, roles=DIRECTOR_ONLY)
        return Response(TurfOutput(services.turf_publish(turf=turf, actor=request.user)).data)


class TurfArchiveView(APIView):
    @extend_schema(request=None, responses={200: TurfOutput}, operation_id="turf_archive")
    def post(self, request: Request, turf_id: int) -> Response:
        turf, _ = turf_for_user(user=request.user, turf_id=turf_id, roles=DIRECTOR_ONLY)
        return Response(TurfOutput(services.turf_archive(turf=turf, actor=request.user)).data)


class TurfReviseView(APIView):
    @extend_schema(request=None, responses={201: TurfOutput}, operation_id="turf_revise")
    def post(self, request: Request, turf_id: int) -> Response:
        turf, _ = turf_for_user(user=request.user, turf_id=turf_id, roles=DIRECTOR_ONLY)
        draft = services.turf_revise(turf=turf, actor=request.user)
        return Response(TurfOutput(draft).data, status=status.HTTP_201_CREATED)


class TurfAssignmentListCreateView(APIView):
    @extend_schema(
        responses={200: AssignmentOutput(many=True)}, operation_id="turf_assignments_list"
    )
    def get(self, request: Request, turf_id: int) -> Response:
        turf, _ = turf_for_user(user=request.user, turf_id=turf_id, roles=STAFF)
        assignments = (
            Assignment.objects.filter(turf=turf)
            .select_related("canvasser")
            .order_by("-created_at", "-pk")
        )
        return Response(AssignmentOutput(assignments, many=True).data)

    @extend_schema(
        request=AssignmentCreateInput,
        responses={201: AssignmentCreateOutput},
        operation_id="turf_assignments_create",
    )
    def post(self, request: Request, turf_id: int) -> Response:
        turf, _ = turf_for_user(user=request.user, turf_id=turf_id, roles=STAFF)
        data = AssignmentCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.assignment_create(
            turf=turf,
            canvasser_ids=data.validated_data["canvasser_ids"],
            expires_at=data.validated_data["expires_at"],
            actor=request.user,
        )
        created = list(
            Assignment.objects.filter(pk__in=[a.pk for a in created])
            .select_related("canvasser")
            .order_by("pk")
        )
        return Response(
            {"assignments": AssignmentOutput(created, many=True).data},
            status=status.HTTP_201_CREATED,
        )


class TurfAssignmentEndView(APIView):
    @extend_schema(responses={200: AssignmentOutput}, operation_id="turf_assignments_end")
    def delete(self, request: Request, turf_id: int, assignment_id: int) -> Response:
        turf, _ = turf_for_user(user=request.user, turf_id=turf_id, roles=STAFF)
        assignment = (
            Assignment.objects.filter(pk=assignment_id, turf=turf)
            .select_related("canvasser", "campaign")
            .first()
        )
        if assignment is None:
            raise NotFound("Assignment not found.")
        assignment = services.assignment_end(assignment=assignment, actor=request.user)
        return Response(AssignmentOutput(assignment).data)
