# Data migration: the catalogue checklist 002 expects after a deploy (6 plans, 5 packages).
from django.db import migrations

PLANS = [
    ("free", "Free", 0, "month"),
    ("starter", "Starter", 900, "month"),
    ("team", "Team", 2900, "month"),
    ("business", "Business", 9900, "month"),
    ("team-yearly", "Team (yearly)", 29000, "year"),
    ("business-yearly", "Business (yearly)", 99000, "year"),
]

PACKAGES = [
    ("Credits 100", "starter", 100),
    ("Credits 500", "team", 500),
    ("Credits 1000", "team", 1000),
    ("Credits 5000", "business", 5000),
    ("Credits 20000", "business-yearly", 20000),
]


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    Package = apps.get_model("billing", "Package")
    for code, name, price, interval in PLANS:
        Plan.objects.get_or_create(
            code=code, defaults={"name": name, "price_cents": price, "interval": interval}
        )
    for name, plan, credits in PACKAGES:
        Package.objects.get_or_create(
            name=name, defaults={"plan": Plan.objects.get(code=plan), "credits": credits}
        )


def unseed(apps, schema_editor):
    apps.get_model("billing", "Package").objects.filter(name__in=[p[0] for p in PACKAGES]).delete()
    apps.get_model("billing", "Plan").objects.filter(code__in=[p[0] for p in PLANS]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0002_subscription"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
