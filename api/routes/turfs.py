"""Turf routes (issue 4: turfs in the app). The packet route belongs to api.routes.sync."""

from django.urls import path

from api.views import turfs

urlpatterns = [
    path(
        "campaigns/<int:campaign_id>/turfs/",
        turfs.TurfListCreateView.as_view(),
        name="campaign-turfs",
    ),
    path(
        "campaigns/<int:campaign_id>/turfs/map.svg",
        turfs.TurfMapView.as_view(),
        name="campaign-turfs-map",
    ),
    path(
        "campaigns/<int:campaign_id>/cuts/preview/",
        turfs.CutPreviewView.as_view(),
        name="campaign-cuts-preview",
    ),
    path("campaigns/<int:campaign_id>/cuts/", turfs.CutCommitView.as_view(), name="campaign-cuts"),
    path(
        "campaigns/<int:campaign_id>/recuts/preview/",
        turfs.RecutPreviewView.as_view(),
        name="campaign-recuts-preview",
    ),
    path(
        "campaigns/<int:campaign_id>/recuts/",
        turfs.RecutCommitView.as_view(),
        name="campaign-recuts",
    ),
    path(
        "campaigns/<int:campaign_id>/layers/",
        turfs.LayerListCreateView.as_view(),
        name="campaign-layers",
    ),
    path("turfs/<int:turf_id>/", turfs.TurfDetailView.as_view(), name="turf-detail"),
    path("turfs/<int:turf_id>/split/", turfs.TurfSplitView.as_view(), name="turf-split"),
    path("turfs/<int:turf_id>/merge/", turfs.TurfMergeView.as_view(), name="turf-merge"),
    path(
        "turfs/<int:turf_id>/doors/move/",
        turfs.TurfDoorsMoveView.as_view(),
        name="turf-doors-move",
    ),
    path("turfs/<int:turf_id>/publish/", turfs.TurfPublishView.as_view(), name="turf-publish"),
    path("turfs/<int:turf_id>/archive/", turfs.TurfArchiveView.as_view(), name="turf-archive"),
    path("turfs/<int:turf_id>/revise/", turfs.TurfReviseView.as_view(), name="turf-revise"),
    path(
        "turfs/<int:turf_id>/assignments/",
        turfs.TurfAssignmentListCreateView.as_view(),
        name="turf-assignments",
    ),
    path(
        "turfs/<int:turf_id>/assignments/<int:assignment_id>/",
        turfs.TurfAssignmentEndView.as_view(),
        name="turf-assignment-end",
    ),
]
