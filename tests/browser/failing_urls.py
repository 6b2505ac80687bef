"""The site's URLs plus two that fail, for the error pages' browser test: a bug (the 500 page) and a lost
database connection (the 503 page). Used only as settings.ROOT_URLCONF inside that test."""

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug, on purpose")


def database_gone(request: HttpRequest) -> HttpResponse:
    raise OperationalError("server closed the connection unexpectedly")


urlpatterns = [
    path("failing/broken/", broken),
    path("failing/database-gone/", database_gone),
    path("", include("config.urls")),
]
handler500 = "operations.views.server_error"
