from django.urls import path

from api.views import reports

urlpatterns = [
    path(
        "campaigns/<int:campaign_id>/reports/contacts/",
        reports.ContactReportView.as_view(),
        name="campaign-contact-report",
    ),
]
