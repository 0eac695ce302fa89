from django.urls import path

from . import views

urlpatterns = [
    path("health", views.health),
    path("health/", views.health),
    path("health/live/", views.health_live),
    path("health/ready/", views.health_ready),
    path("api/v1/status/", views.api_status),
    path("api/v1/auth/register", views.register),
    path("api/v1/auth/login", views.login),
    path("api/v1/auth/token", views.login),
    path("api/v1/users/me", views.me),
    path("api/v1/protected/", views.protected),
    path("api/v1/reports/", views.reports),
    path("api/v1/slow", views.slow),
    path("accounts/login/", views.login_page),
    path("", views.login_page),
]
