# Squashed from 0001_initial and 0002_profile (`manage.py squashmigrations accounts 0002`).
# Databases that applied both originals see it as applied; new databases apply it instead.
from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    replaces = [("accounts", "0001_initial"), ("accounts", "0002_profile")]

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Organization",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100)),
                ("slug", models.SlugField(unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.CreateModel(
            name="Profile",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("role", models.CharField(default="member", max_length=20)),
                ("organization", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="members", to="accounts.organization")),
                ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.AddIndex(
            model_name="profile",
            index=models.Index(fields=["organization", "role"], name="accounts_profile_org_role"),
        ),
    ]
