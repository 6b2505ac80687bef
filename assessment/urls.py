"""Assessment URLs, mounted at /assessment/. Each page family keeps its patterns in its own block."""

from django.urls import path

from assessment import views

# --- indicators, drill-down, scores, targets, recompute (pages) -----------------------------------
pages = [
    path("", views.indicator_list, name="assessment_indicators"),
    path("indicators/<str:code>/", views.indicator_detail, name="assessment_indicator"),
    path(
        "indicators/<str:code>/numerator/",
        views.indicator_records,
        {"side": "numerator"},
        name="assessment_numerator",
    ),
    path(
        "indicators/<str:code>/denominator/",
        views.indicator_records,
        {"side": "denominator"},
        name="assessment_denominator",
    ),
    path("scores/", views.score_table, name="assessment_scores"),
    path("targets/", views.target_list, name="assessment_targets"),
    path("targets/<str:kind>/new/", views.policy_row_edit, name="assessment_policy_new"),
    path("targets/<str:kind>/<int:pk>/", views.policy_row_edit, name="assessment_policy_edit"),
    path("targets/<str:kind>/<int:pk>/delete/", views.policy_row_delete, name="assessment_policy_delete"),
    path("compute/", views.compute_request, name="assessment_compute"),
    path("runs/<int:pk>/", views.compute_run, name="assessment_run"),
    path("runs/<int:pk>/progress/", views.compute_run_progress, name="assessment_run_progress"),
]

urlpatterns = [*pages]
