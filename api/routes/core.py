from django.urls import path

from api.views import core

urlpatterns = [
    path("auth/token/", core.TokenObtainView.as_view(), name="auth-token"),
    path("me/", core.MeView.as_view(), name="me"),
    path("campaigns/", core.CampaignListView.as_view(), name="campaign-list"),
    path("campaigns/<int:campaign_id>/", core.CampaignDetailView.as_view(), name="campaign-detail"),
]
