from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    initial = True

    # A cross-app dependency on a migration that a squash replaced: Django resolves it to
    # accounts.0001_squashed_0002_profile when that one is used.
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Plan",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.SlugField(unique=True)),
                ("name", models.CharField(max_length=100)),
                ("price_cents", models.PositiveIntegerField()),
                ("interval", models.CharField(choices=[("month", "Monthly"), ("year", "Yearly")], max_length=5)),
                ("active", models.BooleanField(default=True)),
            ],
        ),
        migrations.CreateModel(
            name="Package",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, unique=True)),
                ("credits", models.PositiveIntegerField()),
                ("plan", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="packages", to="billing.plan")),
            ],
        ),
    ]
