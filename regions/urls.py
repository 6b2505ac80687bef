from django.contrib.auth import views as auth_views
from django.urls import path

from regions import account_views, views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="regions/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", account_views.password_change, name="password_change"),
    path("accounts/manage/", account_views.account_list, name="account_list"),
    path("accounts/manage/new/", account_views.account_create, name="account_create"),
    path("accounts/manage/<int:pk>/", account_views.account_edit, name="account_edit"),
    path("accounts/manage/<int:pk>/active/", account_views.account_set_active, name="account_set_active"),
    path("accounts/manage/<int:pk>/unlock/", account_views.account_unlock, name="account_unlock"),
    path(
        "accounts/manage/<int:pk>/reset-password/", account_views.account_password_reset, name="account_password_reset"
    ),
    path("session/keep-alive/", views.session_keep_alive, name="session_keep_alive"),
]
