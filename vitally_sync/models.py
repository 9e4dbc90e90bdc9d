from django.db import models
from django.utils import timezone

from handoff.accounts.models import Account


class AccountSync(models.Model):
    """Where one account stands with Vitally.

    The durable intent to push is Account.change_version, bumped by the domain in the same
    transaction as every change; the account needs a push while it is ahead of
    `acked_version`, the version of the last state Vitally acknowledged. Everything else here
    says when to try next and what happened last."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SYNCED = "synced", "Synced"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Failed"

    account = models.OneToOneField(
        Account, primary_key=True, on_delete=models.CASCADE, related_name="vitally_sync"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    acked_version = models.PositiveBigIntegerField(default=0)
    # A permanent failure (4xx) holds until the account changes past this version, the API key
    # changes (auth failures, see failed_key), or someone pushes by hand.
    failed_version = models.PositiveBigIntegerField(default=0)
    failed_key = models.CharField(max_length=16, blank=True)  # fingerprint of the refused key
    push_requested = models.BooleanField(default=False)  # "Push now": send even if unchanged
    attempts = models.PositiveIntegerField(default=0)  # failed attempts since the last success
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # backoff / 429 wait
    # The claim: whoever holds an unexpired lease is the only one pushing this account.
    lease_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)  # last request sent
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_pushed_at = models.DateTimeField(null=True, blank=True)  # last acknowledged push
    pushed_vitally_id = models.CharField(max_length=100, blank=True)
    last_payload = models.JSONField(null=True, blank=True)  # the traits Vitally acknowledged
    last_payload_hash = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Vitally sync state"
        verbose_name_plural = "Vitally sync states"
        ordering = ["account__name"]

    def __str__(self) -> str:
        return f"Vitally sync of {self.account}"


class SyncAttempt(models.Model):
    """One request to Vitally for one account (the panel and the admin show the latest)."""

    class Outcome(models.TextChoices):
        PUSHED = "pushed", "Pushed"
        RATE_LIMITED = "rate_limited", "Rate limited (429)"
        TRANSIENT = "transient", "Error, retrying"
        FAILED = "failed", "Failed"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="vitally_attempts")
    at = models.DateTimeField(default=timezone.now, help_text="When the request was sent.")
    answered_at = models.DateTimeField(
        null=True, blank=True, help_text="When the portal had the answer (a 429's wait shared)."
    )
    change_version = models.PositiveBigIntegerField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    wait_seconds = models.FloatField(
        null=True, blank=True, help_text="The wait a 429 announced (no request before it ends)."
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["account", "-at"])]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.at:%Y-%m-%d %H:%M:%S}"
