"""All API routes. Each area keeps its own route module under api/routes/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("api.routes.core")),
    path("", include("api.routes.universe")),
    path("", include("api.routes.imports")),
    path("", include("api.routes.turfs")),
    path("", include("api.routes.sync")),
    path("", include("api.routes.reports")),
]
