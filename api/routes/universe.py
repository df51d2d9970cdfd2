from django.urls import path

from api.views import universe

urlpatterns = [
    path(
        "campaigns/<int:campaign_id>/districts/",
        universe.DistrictListView.as_view(),
        name="campaign-district-list",
    ),
    path(
        "campaigns/<int:campaign_id>/districts/<int:district_id>/",
        universe.DistrictDetailView.as_view(),
        name="campaign-district-detail",
    ),
    path(
        "campaigns/<int:campaign_id>/households/",
        universe.HouseholdListView.as_view(),
        name="campaign-household-list",
    ),
    path(
        "campaigns/<int:campaign_id>/households/<int:household_id>/",
        universe.HouseholdDetailView.as_view(),
        name="campaign-household-detail",
    ),
    path(
        "campaigns/<int:campaign_id>/people/",
        universe.PersonListView.as_view(),
        name="campaign-person-list",
    ),
    path(
        "campaigns/<int:campaign_id>/people/<int:person_id>/",
        universe.PersonDetailView.as_view(),
        name="campaign-person-detail",
    ),
]
