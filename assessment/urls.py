"""Pages of the assessment. Each feature keeps its patterns in its own block."""

from django.urls import URLPattern, URLResolver, path

from assessment import closing_views

urlpatterns: list[URLPattern | URLResolver] = []

# --- 季度关账 (quarter close) ---
urlpatterns += [
    path("assessment/close/", closing_views.close_board_view, name="close_board"),
    path(
        "assessment/close/village/<int:village_id>/<str:quarter>/submit/",
        closing_views.close_submit,
        name="close_submit",
    ),
    path(
        "assessment/close/village/<int:village_id>/<str:quarter>/approve/",
        closing_views.close_approve,
        name="close_approve",
    ),
    path(
        "assessment/close/village/<int:village_id>/<str:quarter>/return/",
        closing_views.close_return,
        name="close_return",
    ),
    path("assessment/close/county/<int:county_id>/<str:quarter>/lock/", closing_views.close_lock, name="close_lock"),
    path(
        "assessment/close/county/<int:county_id>/<str:quarter>/reopen/", closing_views.close_reopen, name="close_reopen"
    ),
]
