from django.contrib.auth import views as auth_views
from django.urls import path

from regions import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="regions/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("session/keep-alive/", views.session_keep_alive, name="session_keep_alive"),
]
