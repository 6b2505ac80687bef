from django.urls import path

from cooperatives import coverage_views

urlpatterns = [
    path("coverage/", coverage_views.coverage_gaps, name="cooperative_coverage"),
]
