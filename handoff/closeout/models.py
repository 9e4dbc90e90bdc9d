"""Closeout: the checklist an account is handed off against, the handoff's state, the manager's
sign-off (with its frozen snapshot), the technical advisor's reviews and the reminders sent."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from handoff.common.models import PlainTextModel, TimestampedModel, VersionedModel
from handoff.common.validators import HttpURLField


class ChecklistTemplateItem(TimestampedModel):
    """One line of the closeout definition that new checklists are copied from. Staff edit
    this list in the admin; an account keeps the items its checklist started with."""

    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True, help_text="What 'done' means, in the handbook's words.")
    position = models.PositiveIntegerField(default=0, help_text="Lower comes first.")
    is_active = models.BooleanField(
        "active", default=True, help_text="Only active items are copied into new checklists."
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "checklist template item"
        constraints = [
            # Two active items of one title would put the same line twice in every new checklist
            # (a double-clicked "Save" in the admin did exactly that).
            models.UniqueConstraint(
                fields=["title"],
                condition=models.Q(is_active=True),
                name="checklist_template_active_title_unique",
                violation_error_code="unique",
                violation_error_message="An active item already has this title: edit that item, "
                "or deactivate it first.",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def validate_constraints(self, exclude=None):
        # The rule reads the title and the active flag: an update that changes either one is
        # checked against both (model_update excludes the fields it does not change).
        if exclude:
            exclude = set(exclude) - {"title", "is_active"}
        super().validate_constraints(exclude=exclude)


class Closeout(TimestampedModel):
    """The handoff's state for one account: checklist started, handoff requested, the TA's
    acknowledgement. Created by the first closeout write under the account."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, related_name="closeout"
    )
    checklist_started_at = models.DateTimeField(null=True, blank=True)
    checklist_started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handoff_requested_at = models.DateTimeField("handoff requested on", null=True, blank=True)
    handoff_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="handoff requested by",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Who acknowledged: when the account gets another TA, the acknowledgement no longer counts.
    ta_acknowledged_at = models.DateTimeField("acknowledged on", null=True, blank=True)
    ta_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="acknowledged by the technical advisor",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    def __str__(self) -> str:
        return f"Closeout of {self.account}"

    def acknowledged_by_current_ta(self, account) -> bool:
        return (
            account.technical_advisor_id is not None
            and self.ta_acknowledged_by_id == account.technical_advisor_id
        )


class ChecklistItem(VersionedModel):
    """One closeout item of one account, copied from the template when its checklist started."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="checklist_items"
    )
    template_item = models.ForeignKey(
        ChecklistTemplateItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    not_applicable_reason = models.TextField("reason it does not apply", blank=True)
    evidence_url = HttpURLField("evidence link", max_length=500, blank=True)
    evidence_note = models.TextField("evidence note", blank=True)
    # Who marked it done or not applicable, and when (cleared when it is open again).
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "checklist item"

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.status == self.Status.NOT_APPLICABLE and not self.not_applicable_reason.strip():
            raise ValidationError(
                {"not_applicable_reason": "Say why this item does not apply to this account."}
            )

    @property
    def is_settled(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.NOT_APPLICABLE)

    def get_absolute_url(self) -> str:
        return (
            reverse("accounts:detail", args=[self.account_id]) + f"#checklist-item-{self.position}"
        )


class SignOff(PlainTextModel):
    """A manager's sign-off of an account's closeout: who, when, the blockers overridden and
    why, and a snapshot of the record at that moment. Never edited: a reopening is recorded on
    it (the only later write), and the snapshot's digest shows it is intact."""

    REOPEN_FIELDS = frozenset({"reopened_at", "reopened_by", "reopen_reason"})

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="sign_offs"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_by_name = models.CharField(max_length=150)  # kept if the user is removed
    signed_at = models.DateTimeField()
    readiness_percent = models.PositiveSmallIntegerField()
    blockers = models.JSONField(default=list, blank=True)  # [{rule, title, detail, url}]
    override_reason = models.TextField(blank=True)
    snapshot = models.JSONField()
    snapshot_sha256 = models.CharField(max_length=64)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reopen_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-signed_at", "-pk"]
        verbose_name = "sign-off"

    def __str__(self) -> str:
        return f"Sign-off by {self.signed_by_name} on {self.signed_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= self.REOPEN_FIELDS:
                raise ValueError("A sign-off is immutable; only its reopening can be recorded.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("closeout:sign_off_detail", args=[self.account_id, self.pk])

    @property
    def snapshot_account_name(self) -> str:
        return (self.snapshot.get("sections", {}).get("account", {}).get("data") or {}).get(
            "name", ""
        )


class HandoffReview(models.Model):
    """The last time a person marked an account's handoff reviewed. Changes are those recorded
    in the audit trail after `through_event_id` (the review's own audit event)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reviewed_at = models.DateTimeField()
    through_event_id = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "reviewer"], name="review_once_per_person")
        ]
        verbose_name = "handoff review"

    def __str__(self) -> str:
        return f"Handoff review by {self.reviewer}"


class CompletionReminder(models.Model):
    """The one reminder sent for an account's planned completion date (a new date may earn a
    new reminder; the same date never does)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    planned_completion_date = models.DateField()
    sent_at = models.DateTimeField()
    recipients = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "planned_completion_date"], name="one_reminder_per_date"
            )
        ]
        verbose_name = "planned completion reminder"

    def __str__(self) -> str:
        return f"Planned completion reminder for {self.planned_completion_date}"
