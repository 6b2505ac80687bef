"""URLs of the import pipeline's pages."""

from django.urls import path

from workbooks import views

urlpatterns = [
    path("imports/", views.import_upload, name="import_upload"),
    path("imports/<int:pk>/", views.import_batch, name="import_batch"),
    path("imports/<int:pk>/confirm/", views.import_batch_confirm, name="import_batch_confirm"),
    path("imports/<int:pk>/undo/", views.import_batch_undo, name="import_batch_undo"),
    path("imports/<int:pk>/recheck/", views.import_batch_recheck, name="import_batch_recheck"),
    path("imports/<int:pk>/errors.xlsx", views.import_batch_errors, name="import_batch_errors"),
    path("imports/<int:pk>/file", views.import_batch_file, name="import_batch_file"),
]
