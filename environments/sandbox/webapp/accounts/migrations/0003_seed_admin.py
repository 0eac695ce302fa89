# Data migration: the organization that runs the service and its administrator (checklist 002:
# "an admin user"). The password comes from DJANGO_ADMIN_PASSWORD when set; otherwise the
# account exists with an unusable password (no default password ever ships).
import os

from django.contrib.auth.hashers import make_password
from django.db import migrations


def seed_admin(apps, schema_editor):
    User = apps.get_model("auth", "User")
    Organization = apps.get_model("accounts", "Organization")
    Profile = apps.get_model("accounts", "Profile")
    org, _ = Organization.objects.get_or_create(slug="operator", defaults={"name": "Operator"})
    password = os.environ.get("DJANGO_ADMIN_PASSWORD")
    admin, created = User.objects.get_or_create(
        username="admin",
        defaults={
            "email": "admin@sandbox.deploycheck.test",
            "is_staff": True,
            "is_superuser": True,
            "password": make_password(password),  # None makes an unusable password
        },
    )
    Profile.objects.get_or_create(user=admin, defaults={"organization": org, "role": "admin"})


def unseed_admin(apps, schema_editor):
    apps.get_model("accounts", "Profile").objects.filter(user__username="admin").delete()
    apps.get_model("auth", "User").objects.filter(username="admin").delete()
    apps.get_model("accounts", "Organization").objects.filter(slug="operator").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_profile"),
    ]

    operations = [migrations.RunPython(seed_admin, unseed_admin)]
