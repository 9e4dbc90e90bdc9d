"""Reconcile: when each account was last read back from Vitally, and the differences found."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_people_of_their_role"),
        ("vitally_sync", "0004_request_count"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountsync",
            name="reconciled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="TraitDifference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("trait_key", models.CharField(max_length=200)),
                (
                    "field_name",
                    models.CharField(help_text="The portal field (payloads.py).", max_length=50),
                ),
                ("portal_value", models.JSONField(blank=True, null=True)),
                ("vitally_value", models.JSONField(blank=True, null=True)),
                ("first_seen_at", models.DateTimeField()),
                ("last_seen_at", models.DateTimeField()),
                ("version", models.PositiveIntegerField(default=1)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="vitally_differences",
                        to="accounts.account",
                    ),
                ),
            ],
            options={
                "verbose_name": "difference in Vitally",
                "verbose_name_plural": "differences in Vitally",
                "ordering": ["account", "first_seen_at", "pk"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("account", "trait_key"), name="traitdifference_one_per_account_key"
                    )
                ],
            },
        ),
    ]
