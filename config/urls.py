"""URL wiring only."""

from django.contrib import admin
from django.urls import include, path

from assessment.dashboard_views import home

admin.site.site_header = "振兴台账 管理后台"
admin.site.site_title = "振兴台账"
admin.site.index_title = "数据管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("operations.urls")),
    # County users open on their dashboard; the ledger's own home page is served through this view.
    path("", home, name="home"),
    path("", include("regions.urls")),
    path("", include("workbooks.urls")),
    path("", include("households.urls")),
    path("cooperatives/", include("cooperatives.coverage_urls")),
    path("assessment/", include("assessment.urls")),
    path("industries/", include("industries.urls")),
    path("cooperatives/excel/", include("cooperatives.excel_urls")),
    path("cooperatives/", include("cooperatives.urls")),
    path("funds/", include("funds.urls")),
    path("api/", include("api.urls")),
    path("api-clients/", include("api.client_urls")),
]

# A lost database connection, wherever it surfaces (a view, a middleware reading the session), is a
# Chinese 503 that says to retry; every other error is the ordinary 500 page.
handler500 = "operations.views.server_error"
