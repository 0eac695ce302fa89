from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("billing", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Subscription",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("status", models.CharField(default="active", max_length=20)),
                ("started_at", models.DateTimeField()),
                ("organization", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="accounts.organization")),
                ("plan", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to="billing.plan")),
            ],
        ),
        migrations.AddIndex(
            model_name="subscription",
            index=models.Index(fields=["organization", "status"], name="billing_sub_org_status"),
        ),
    ]
