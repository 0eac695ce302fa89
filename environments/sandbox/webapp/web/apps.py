from django.apps import AppConfig


class WebConfig(AppConfig):
    """The sandbox's public face: health, the API the smoke checks drive, the static assets."""

    name = "web"
