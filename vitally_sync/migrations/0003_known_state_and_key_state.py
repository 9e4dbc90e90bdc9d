"""Known state instead of a payload hash, in-flight payloads, full-push counters, config
fingerprint, "Needs attention", and the durable state of the API key (429 waits, refusals)."""

from django.db import migrations, models


def push_requested_to_counters(apps, schema_editor):
    AccountSync = apps.get_model("vitally_sync", "AccountSync")
    AccountSync.objects.filter(push_requested=True).update(full_push_asked=1)
    # Old 4xx failures become "Needs attention"; refused keys stay "Failed".
    AccountSync.objects.filter(status="failed", failed_key="").update(status="attention")


class Migration(migrations.Migration):
    dependencies = [("vitally_sync", "0002_attempt_answer_and_wait")]

    operations = [
        migrations.RenameField("accountsync", "last_payload", "acked_traits"),
        migrations.RemoveField("accountsync", "last_payload_hash"),
        migrations.AddField(
            "accountsync", "full_push_asked", models.PositiveIntegerField(default=0)
        ),
        migrations.AddField(
            "accountsync", "full_push_done", models.PositiveIntegerField(default=0)
        ),
        migrations.AlterField(
            "accountsync",
            "status",
            models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("synced", "Synced"),
                    ("retrying", "Retrying"),
                    ("failed", "Failed"),
                    ("attention", "Needs attention"),
                ],
                db_index=True,
                default="pending",
                max_length=10,
            ),
        ),
        migrations.RunPython(push_requested_to_counters, migrations.RunPython.noop),
        migrations.RemoveField("accountsync", "push_requested"),
        migrations.AddField(
            "accountsync", "inflight_traits", models.JSONField(blank=True, null=True)
        ),
        migrations.AddField(
            "accountsync", "inflight_at", models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            "accountsync", "config_fingerprint", models.CharField(blank=True, max_length=16)
        ),
        migrations.AddField(
            "accountsync", "synced_through", models.DateTimeField(blank=True, null=True)
        ),
        migrations.CreateModel(
            name="VitallyKey",
            fields=[
                (
                    "fingerprint",
                    models.CharField(max_length=16, primary_key=True, serialize=False),
                ),
                ("paused_until", models.DateTimeField(blank=True, null=True)),
                ("auth_error", models.TextField(blank=True)),
                ("auth_failed_at", models.DateTimeField(blank=True, null=True)),
                ("probe_after", models.DateTimeField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "Vitally API key state",
                "verbose_name_plural": "Vitally API key states",
            },
        ),
    ]
