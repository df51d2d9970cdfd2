from django.urls import path

from api.views import imports

urlpatterns = [
    path(
        "campaigns/<int:campaign_id>/imports/",
        imports.ImportRunListView.as_view(),
        name="import-list",
    ),
    path(
        "campaigns/<int:campaign_id>/imports/districts/",
        imports.DistrictImportView.as_view(),
        name="import-districts",
    ),
    path(
        "campaigns/<int:campaign_id>/imports/doors/",
        imports.DoorImportView.as_view(),
        name="import-doors",
    ),
    path(
        "campaigns/<int:campaign_id>/imports/voters/",
        imports.VoterImportView.as_view(),
        name="import-voters",
    ),
    path(
        "campaigns/<int:campaign_id>/imports/<int:run_id>/",
        imports.ImportRunDetailView.as_view(),
        name="import-detail",
    ),
    path(
        "campaigns/<int:campaign_id>/imports/<int:run_id>/unmatched.csv",
        imports.ImportIssuesCsvView.as_view(),
        name="import-unmatched-csv",
    ),
]
