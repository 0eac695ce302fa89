"""URLs of the sandbox web application: the web app's health, API and login page."""
from django.urls import include, path

urlpatterns = [path("", include("web.urls"))]
