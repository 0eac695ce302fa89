"""Customers: organizations and the users who belong to them."""
from django.conf import settings
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="members"
    )
    role = models.CharField(max_length=20, default="member")

    class Meta:
        indexes = [models.Index(fields=["organization", "role"], name="accounts_profile_org_role")]
