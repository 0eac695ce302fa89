"""What customers buy: plans, credit packages, and each organization's subscription."""
from django.db import models


class Plan(models.Model):
    code = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    price_cents = models.PositiveIntegerField()
    interval = models.CharField(max_length=5, choices=[("month", "Monthly"), ("year", "Yearly")])
    active = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["active", "price_cents"], name="billing_plan_active_price")]


class Package(models.Model):
    name = models.CharField(max_length=100, unique=True)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="packages")
    credits = models.PositiveIntegerField()


class Subscription(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT)
    status = models.CharField(max_length=20, default="active")
    started_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["organization", "status"], name="billing_sub_org_status")
        ]
