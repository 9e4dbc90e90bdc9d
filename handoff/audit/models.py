from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One write by one person: who, when, which request, which object, field before → after.

    Written by services in the same transaction as the change it describes."""

    class Kind(models.TextChoices):  # what the event records (`action`)
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"
        STATUS = "status", "Status changed"
        ACTION = "action", "Action"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)  # kept if the user is removed
    request_id = models.CharField(max_length=64, blank=True)
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    object_type = models.CharField(max_length=100)  # "app_label.model"
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=list, blank=True)  # [{field, label, before, after}]

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at"]),
            # The newest event of an account, which cached account pages are keyed on.
            models.Index(fields=["account", "id"], name="audit_account_id_idx"),
            models.Index(fields=["object_type", "object_id"]),
        ]

    def __str__(self) -> str:
        return (
            f"{self.actor_name or 'system'} {self.get_action_display().lower()} {self.object_repr}"
        )

    def change_for(self, field: str) -> dict | None:
        return next((c for c in self.changes if c["field"] == field), None)
