"""URLs of the cooperatives registers' Excel templates and exports (imports go through the pipeline's pages)."""

from django.urls import path

from cooperatives import excel_views

urlpatterns = [
    path("", excel_views.sheet_list, name="cooperative_sheets"),
    path("<str:name>/template.xlsx", excel_views.sheet_template, name="cooperative_sheet_template"),
    path("<str:name>/export.xlsx", excel_views.sheet_export, name="cooperative_sheet_export"),
]
