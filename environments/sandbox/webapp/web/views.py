"""The sandbox app's endpoints: what checklists 000, 002 and 004 verify after a deploy.

JSON API under /api/v1/ with bearer tokens (web/auth.py); health endpoints for load balancers
and the Monitoring suite; an HTML login page that uses the collected static files.
"""
import json
import time

from django.contrib.auth import authenticate, get_user_model
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from django.views.decorators.http import require_http_methods

from .auth import issue_token, user_from_request


def unauthorized():
    response = JsonResponse({"detail": "authentication required"}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def json_body(request):
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def health(request):
    return JsonResponse({"status": "ok"})


def health_live(request):
    return JsonResponse({"status": "ok"})


def health_ready(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any database failure means "not ready", with its reason
        return JsonResponse({"status": "unavailable", "database": str(error)}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def api_status(request):
    return JsonResponse({"status": "ok", "version": "1"})


@csrf_exempt
@require_http_methods(["POST"])
def register(request):
    data = json_body(request)
    if not data or not data.get("email") or not data.get("password"):
        return JsonResponse({"detail": "email and password required"}, status=400)
    User = get_user_model()
    if User.objects.filter(username=data["email"]).exists():
        return JsonResponse({"detail": "already registered"}, status=409)
    user = User.objects.create_user(username=data["email"], email=data["email"], password=data["password"])
    return JsonResponse({"id": user.pk, "email": user.email}, status=201)


@csrf_exempt
@require_http_methods(["POST"])
def login(request):
    data = json_body(request)
    if not data:
        return JsonResponse({"detail": "email and password required"}, status=400)
    user = authenticate(request, username=data.get("email"), password=data.get("password"))
    if user is None:
        return JsonResponse({"detail": "invalid credentials"}, status=401)
    return JsonResponse({"token": issue_token(user), "token_type": "Bearer"})


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
def me(request):
    user = user_from_request(request)
    if user is None:
        return unauthorized()
    if request.method == "DELETE":
        user.delete()
        return JsonResponse({}, status=204)
    return JsonResponse({"id": user.pk, "email": user.email, "username": user.username})


def protected(request):
    user = user_from_request(request)
    if user is None:
        return unauthorized()
    return JsonResponse({"owner": user.username, "items": []})


def reports(request):
    """Meant to be protected like `protected`, but the check was forgotten: sandbox_broken's
    "a protected endpoint answers without a token"."""
    return JsonResponse({"reports": [{"id": 1, "title": "Quarterly revenue"}]})


def slow(request):
    """Answers after 3 s: sandbox_broken's endpoint over its 500 ms latency bound."""
    time.sleep(3)
    return JsonResponse({"status": "ok"})


@ensure_csrf_cookie
def login_page(request):
    return render(request, "web/login.html")
