"""Security headers and CORS for every response, as the checklists ask of a production app.

Django's SecurityMiddleware covers nosniff, Referrer-Policy and HSTS only when it believes the
request came over HTTPS; behind the sandbox's nginx that belief needs SECURE_PROXY_SSL_HEADER,
and a CSP needs a package Debian 12 does not ship (django-csp). Setting them here keeps
settings.py untouched but for one line, and the healthy values in one place.
"""
import os

CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'"
HSTS = "max-age=31536000; includeSubDomains"


def allowed_origins():
    return {o.strip() for o in os.environ.get("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()}


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.origins = allowed_origins()

    def __call__(self, request):
        origin = request.headers.get("Origin")
        is_api = request.path.startswith("/api/")
        preflight = (
            request.method == "OPTIONS"
            and is_api
            and "Access-Control-Request-Method" in request.headers
        )
        if preflight:
            from django.http import HttpResponse

            response = HttpResponse(status=204)
            if origin in self.origins:
                response["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
                response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
                response["Access-Control-Max-Age"] = "600"
        else:
            response = self.get_response(request)
        if is_api and origin in self.origins:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Credentials"] = "true"
        if is_api:
            response["Vary"] = "Origin"
        response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("X-Frame-Options", "DENY")
        response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.setdefault("Strict-Transport-Security", HSTS)
        return response
