"""RequestCount: requests to Vitally per outcome, a durable counter for /metrics.

Numbered 0005 and depending on 0003 while 0004 is written on another branch: when both are
merged, this one's dependency becomes 0004."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("vitally_sync", "0003_known_state_and_key_state"),
    ]

    operations = [
        migrations.CreateModel(
            name="RequestCount",
            fields=[
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("pushed", "Pushed"),
                            ("rate_limited", "Rate limited (429)"),
                            ("transient", "Error, retrying"),
                            ("failed", "Failed"),
                        ],
                        max_length=20,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("count", models.PositiveBigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "Vitally request count",
                "verbose_name_plural": "Vitally request counts",
            },
        ),
    ]
