from django.urls import path

from industries.views import catalogue, designations, participations, scale

urlpatterns = [
    path("", catalogue.industry_list, name="industry_list"),
    path("new/", catalogue.industry_create, name="industry_create"),
    path("<int:pk>/", catalogue.industry_detail, name="industry_detail"),
    path("<int:pk>/edit/", catalogue.industry_edit, name="industry_edit"),
    path("designations/", designations.designation_list, name="designation_list"),
    path("designations/new/", designations.designation_create, name="designation_create"),
    path("designations/<int:pk>/", designations.designation_detail, name="designation_detail"),
    path("designations/<int:pk>/edit/", designations.designation_edit, name="designation_edit"),
    path("designations/<int:pk>/delete/", designations.designation_delete, name="designation_delete"),
    path("plans/", scale.scale_plan_list, name="scale_plan_list"),
    path("plans/new/", scale.scale_plan_create, name="scale_plan_create"),
    path("plans/<int:pk>/", scale.scale_plan_detail, name="scale_plan_detail"),
    path("plans/<int:pk>/edit/", scale.scale_plan_edit, name="scale_plan_edit"),
    path("plans/<int:pk>/delete/", scale.scale_plan_delete, name="scale_plan_delete"),
    path("reports/", scale.scale_report_list, name="scale_report_list"),
    path("reports/new/", scale.scale_report_create, name="scale_report_create"),
    path("reports/<int:pk>/", scale.scale_report_detail, name="scale_report_detail"),
    path("reports/<int:pk>/edit/", scale.scale_report_edit, name="scale_report_edit"),
    path("reports/<int:pk>/delete/", scale.scale_report_delete, name="scale_report_delete"),
    path("scale/", scale.scale_rollup, name="scale_rollup"),
    path("participations/", participations.participation_list, name="participation_list"),
    path("participations/<int:pk>/", participations.participation_detail, name="participation_detail"),
    path("participations/<int:pk>/edit/", participations.participation_edit, name="participation_edit"),
    path("participations/<int:pk>/delete/", participations.participation_delete, name="participation_delete"),
    path(
        "households/<int:household_pk>/participations/new/",
        participations.participation_create,
        name="participation_create",
    ),
]
