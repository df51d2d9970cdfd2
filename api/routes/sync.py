"""Sync routes: the native batch API (turf packets, batch push) and the WatermelonDB protocol."""

from django.urls import path

from api.views import sync, watermelon

urlpatterns = [
    path("turfs/<int:turf_id>/packet/", sync.TurfPacketView.as_view(), name="turf-packet"),
    path("sync/contacts/", sync.ContactBatchView.as_view(), name="sync-contacts"),
    path("sync/pull/", watermelon.WatermelonPullView.as_view(), name="sync-pull"),
    path("sync/push/", watermelon.WatermelonPushView.as_view(), name="sync-push"),
]
