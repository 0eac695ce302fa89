from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0003_seed_plans"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="plan",
            index=models.Index(fields=["active", "price_cents"], name="billing_plan_active_price"),
        ),
    ]
