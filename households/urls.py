from django.urls import path

from households import county_views, views
from households.excel import views as excel_views

urlpatterns = [
    path("", views.home, name="home"),
    path("households/", views.household_list, name="household_list"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/card/", views.household_card, name="household_card"),
    path("households/cards/", views.village_cards, name="village_cards"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/cancel/", views.household_cancel, name="household_cancel"),
    path("households/<int:pk>/income/new/", views.income_entry, name="income_create"),
    path("households/<int:pk>/income/<str:period>/", views.income_entry, name="income_edit"),
    path("households/<int:pk>/income/<str:period>/void/", views.income_void, name="income_void"),
    path("households/<int:pk>/monitoring/new/", views.monitoring_case_register, name="case_register"),
    path(
        "households/<int:pk>/monitoring/<int:case_pk>/eliminate/",
        views.monitoring_case_eliminate,
        name="case_eliminate",
    ),
    path("thresholds/", county_views.threshold_list, name="threshold_list"),
    path("thresholds/new/", county_views.threshold_edit, name="threshold_create"),
    path("thresholds/<int:pk>/", county_views.threshold_edit, name="threshold_edit"),
    path("reference-lists/", county_views.reference_list, name="reference_list"),
    path("reference-lists/<slug:slug>/new/", county_views.reference_edit, name="reference_create"),
    path("reference-lists/<slug:slug>/<int:pk>/", county_views.reference_edit, name="reference_edit"),
    path(
        "reference-lists/<slug:slug>/<int:pk>/active/", county_views.reference_set_active, name="reference_set_active"
    ),
    path("audit/", county_views.audit_list, name="audit_list"),
    path("imports/template/<str:kind>.xlsx", excel_views.template_download, name="import_template"),
    path("households/export/<str:kind>.xlsx", excel_views.export_download, name="export_download"),
    path("exports/", excel_views.export_job_list, name="export_jobs"),
    path("exports/<int:pk>/", excel_views.export_job, name="export_job"),
    path("exports/<int:pk>/file", excel_views.export_job_file, name="export_job_file"),
]
