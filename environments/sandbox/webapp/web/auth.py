"""Bearer tokens for the API: signed, time-limited, stateless (no table, no row per login).

`Authorization: Bearer <token>` (or `Token <token>`) carries the user id signed with
SECRET_KEY; a token older than TOKEN_MAX_AGE seconds is refused.
"""
from django.contrib.auth import get_user_model
from django.core import signing

SALT = "web.api-token"
TOKEN_MAX_AGE = 3600


def issue_token(user):
    return signing.dumps({"uid": user.pk}, salt=SALT)


def user_from_request(request):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme not in ("Bearer", "Token") or not token:
        return None
    try:
        data = signing.loads(token.strip(), salt=SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    return get_user_model().objects.filter(pk=data.get("uid"), is_active=True).first()
