"""/api/v1/: the resources (one router entry per registered resource), the schema and its documentation."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import SimpleRouter

from api import reconciliation_views as reconciliation
from api.authentication import BearerTokenAuthentication
from api.viewsets import VIEWSETS, ApiRoot, NoSuchEndpoint
from api.write_views import writable_viewset
from api.writers import WRITERS

app_name = "api"

router = SimpleRouter(trailing_slash=True)
for name, viewset in VIEWSETS.items():
    # The resources the province is the source of take writes too (api/write_views.py).
    router.register(name, writable_viewset(viewset) if name in WRITERS else viewset, basename=name)

# The schema and its documentation are read-only pages: staff read them with their session, clients
# with their token. Only these two accept a session; every resource takes a bearer token only.
documentation_access = {
    "authentication_classes": [BearerTokenAuthentication, SessionAuthentication],
    "permission_classes": [IsAuthenticated],
}

urlpatterns = [
    path("v1/", ApiRoot.as_view(), name="root"),
    path("v1/schema/", SpectacularAPIView.as_view(**documentation_access), name="schema"),
    # The split view serves the page's script as a file (?script), so the CSP needs no inline script.
    path("v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", **documentation_access), name="docs"),
    path("v1/reconciliations/", reconciliation.ReconciliationList.as_view(), name="reconciliations"),
    path("v1/reconciliations/<int:pk>/", reconciliation.ReconciliationDetail.as_view(), name="reconciliation"),
    path(
        "v1/reconciliations/<int:pk>/entries/",
        reconciliation.ReconciliationEntries.as_view(),
        name="reconciliation-entries",
    ),
    path(
        "v1/reconciliations/<int:pk>/finish/",
        reconciliation.ReconciliationFinish.as_view(),
        name="reconciliation-finish",
    ),
    path(
        "v1/reconciliations/<int:pk>/differences/",
        reconciliation.ReconciliationDifferences.as_view(),
        name="reconciliation-differences",
    ),
    path("v1/", include(router.urls)),
    re_path(r"^v1/.*$", NoSuchEndpoint.as_view(), name="not-found"),
]
