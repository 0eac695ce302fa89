"""URLs of the sandbox web application (the web helper adds its views here)."""
urlpatterns = []
