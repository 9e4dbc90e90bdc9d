from django.db import models


class OutgoingEmail(models.Model):
    """One e-mail the portal sends: written in the transaction of the change it tells about,
    tried once that transaction commits, and retried by the worker until it is sent or
    EMAIL_MAX_ATTEMPTS is reached. A failure is therefore recorded, never lost in a log."""

    class Kind(models.TextChoices):
        HANDOFF_REQUESTED = "handoff_requested", "Handoff requested"
        SIGNED_OFF = "signed_off", "Signed off"
        REOPENED = "reopened", "Reopened"
        COMPLETION_REMINDER = "completion_reminder", "Planned completion reminder"
        STALE_DIGEST = "stale_digest", "Update requested (digest)"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Not sent (gave up)"

    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="emails"
    )
    kind = models.CharField(max_length=40, choices=Kind.choices)  # a page finds its e-mail by it
    subject = models.CharField(max_length=300)
    body = models.TextField()
    to = models.JSONField(default=list)  # addresses
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # When a pending e-mail may be tried next; also the claim of a sender that is trying it.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        verbose_name = "e-mail"

    def __str__(self) -> str:
        return self.subject

    @property
    def recipients(self) -> str:
        return ", ".join(self.to)
