"""Assessment URLs, mounted at /assessment/. Each page family keeps its patterns in its own block."""

from django.urls import URLPattern, URLResolver, path

from assessment import alert_views, closing_views, dashboard_views, views

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
    path(
        "indicators/<str:code>/complement/",
        views.indicator_records,
        {"side": "complement"},
        name="assessment_complement",
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

# --- 看板 (dashboards): the screen, its print view, its Excel report ---------------------------------
dashboards = [
    path("dashboard/", dashboard_views.dashboard, name="assessment_dashboard"),
    path("dashboard/print/", dashboard_views.dashboard_print, name="assessment_dashboard_print"),
    path("dashboard/report.xlsx", dashboard_views.dashboard_excel, name="assessment_dashboard_excel"),
    path("breakdowns/<str:code>/<str:key>/", views.breakdown_records, name="assessment_breakdown_records"),
]

# --- 季度关账 (quarter close) ---------------------------------------------------------------------
closing = [
    path("close/", closing_views.close_board_view, name="close_board"),
    path("close/village/<int:village_id>/<str:quarter>/submit/", closing_views.close_submit, name="close_submit"),
    path("close/village/<int:village_id>/<str:quarter>/approve/", closing_views.close_approve, name="close_approve"),
    path("close/village/<int:village_id>/<str:quarter>/return/", closing_views.close_return, name="close_return"),
    path("close/county/<int:county_id>/<str:quarter>/lock/", closing_views.close_lock, name="close_lock"),
    path("close/county/<int:county_id>/<str:quarter>/reopen/", closing_views.close_reopen, name="close_reopen"),
]

# --- 预警 (alerts): inbox, one alert, its actions, bulk 排除 -----------------------------------------
alerts = [
    path("alerts/", alert_views.alert_list, name="alert_list"),
    path("alerts/dismiss/", alert_views.alert_dismiss_bulk, name="alert_dismiss_bulk"),
    path("alerts/<int:pk>/", alert_views.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/<str:action>/", alert_views.alert_action, name="alert_action"),
]

urlpatterns: list[URLPattern | URLResolver] = [*pages, *dashboards, *closing, *alerts]
