"""/api-clients/: the pages where administrators manage API clients and read their calls."""

from django.urls import path

from api import client_views, conflict_views

urlpatterns = [
    path("", client_views.client_list, name="api_client_list"),
    path("new/", client_views.client_create, name="api_client_create"),
    path("calls/", client_views.call_log, name="api_call_log"),
    path("conflicts/", conflict_views.conflict_list, name="api_conflict_list"),
    path("conflicts/<int:pk>/", conflict_views.conflict_detail, name="api_conflict_detail"),
    path("reconciliations/", client_views.reconciliation_list, name="api_reconciliation_list"),
    path("reconciliations/<int:pk>/", client_views.reconciliation_detail, name="api_reconciliation_detail"),
    path("<int:pk>/", client_views.client_detail, name="api_client_detail"),
    path("<int:pk>/rotate/", client_views.client_rotate, name="api_client_rotate"),
    path("<int:pk>/deactivate/", client_views.client_deactivate, name="api_client_deactivate"),
    path("<int:pk>/tokens/<int:token_pk>/revoke/", client_views.token_revoke, name="api_token_revoke"),
]
