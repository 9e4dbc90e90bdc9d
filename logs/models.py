"""The four logs the handbook asks Implementation to keep, and the TA inherits: implementation
notes (a journal), the Issues Log, the Risk Log and Expansion Opportunities."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from handoff.common.models import PlainTextModel, TimestampedModel, VersionedModel
from handoff.common.validators import HttpURLField

# Owners are people who can act on the item: active portal users only. The model validates it
# too (full_clean checks limit_choices_to), so no path can assign someone outside the system.
_ACTIVE_USER = {"is_active": True}
_OWNER_ERRORS = {"invalid": "Choose an active portal user as the owner."}


class JournalEntry(VersionedModel):
    """One implementation note. Append-only: entries are corrected (History keeps the earlier
    text), never deleted."""

    class Kind(models.TextChoices):
        INFO = "info", "Info"
        SUCCESS = "success", "Success"
        WARNING = "warning", "Warning"
        DANGER = "danger", "Danger"

    class Category(models.TextChoices):
        # The handbook's examples of what the notes record.
        UPPER_LIMITS = "upper_limits", "Upper limits discussed"
        SPECIAL_DEPLOYMENT = "special_deployment", "Special deployment details"
        SIGNIFICANT_ERRORS = "significant_errors", "Significant errors"
        ENGINEERING = "engineering_involvement", "Engineering involvement"
        GENERAL = "general", "General"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="journal_entries"
    )
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=30, choices=Category.choices, default=Category.GENERAL)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.INFO)
    body = models.TextField(
        "notes", help_text="Markdown: **bold**, `code`, lists, links and ``` code blocks."
    )
    reference_url = HttpURLField(
        "reference link",
        max_length=500,
        blank=True,
        help_text="Optional: a ticket, pull request or incident.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="journal_entries"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "implementation note"
        verbose_name_plural = "implementation notes"
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"note “{self.title}”"

    @property
    def edited(self) -> bool:
        return self.version > 1


class LogSequence(models.Model):
    """The last number handed out per account and log (I-n, R-n). A row locked with
    select_for_update serialises concurrent creates, and numbers are never reused."""

    class Log(models.TextChoices):
        ISSUE = "issue", "Issues Log"
        RISK = "risk", "Risk Log"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    log = models.CharField(max_length=10, choices=Log.choices)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "log"], name="log_sequence_per_account")
        ]

    def __str__(self) -> str:
        return f"{self.get_log_display()} of account {self.account_id}: {self.last_number}"


class Issue(VersionedModel):
    """An active problem that needs resolving."""

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical"
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        BLOCKED = "blocked", "Blocked"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.BLOCKED)
    DONE_STATUSES = (Status.RESOLVED, Status.CLOSED)

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="issues")
    number = models.PositiveIntegerField(editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_issues",
        limit_choices_to=_ACTIVE_USER,
        error_messages=_OWNER_ERRORS,
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    raised_at = models.DateTimeField("raised", default=timezone.now, editable=False)
    target_date = models.DateField(null=True, blank=True)
    external_ticket_url = HttpURLField(
        "external ticket link", max_length=500, blank=True, help_text="Jira, Zendesk, GitHub…"
    )
    resolution = models.TextField(
        blank=True, help_text="What fixed it, or why it is closed. Required to resolve."
    )
    resolved_on = models.DateField("resolved date", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["account", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="issue_number_per_account")
        ]
        indexes = [models.Index(fields=["status", "severity"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def clean(self) -> None:
        if self.status in self.DONE_STATUSES and not self.resolution.strip():
            raise ValidationError(
                {
                    "resolution": "Write the resolution before marking the issue "
                    f"{self.get_status_display()}."
                }
            )

    def get_absolute_url(self) -> str:
        return reverse("logs:issue_detail", args=[self.account_id, self.pk])

    @property
    def reference(self) -> str:
        return f"I-{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def days_open(self) -> int:
        """Days from being raised until resolved (or until today)."""
        end = self.resolved_on or timezone.localdate()
        return max((end - timezone.localdate(self.raised_at)).days, 0)

    @property
    def stale_reason(self) -> str:
        from logs.staleness import issue_stale_reason

        return issue_stale_reason(self, now=timezone.now())


class IssueNote(PlainTextModel):
    """A dated update on an issue. Append-only."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField("update")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "issue update"

    def __str__(self) -> str:
        return f"update on {self.issue.reference}"


class Risk(VersionedModel):
    """A potential future problem and the response if it comes to fruition."""

    class Category(models.TextChoices):
        INFRASTRUCTURE = "infrastructure", "Infrastructure and capacity"
        PERFORMANCE = "performance", "Performance and scale"
        SECURITY = "security", "Security and compliance"
        CODE_HOSTS = "code_hosts", "Code hosts and repositories"
        SCHEDULE = "schedule", "Schedule and resourcing"
        ADOPTION = "adoption", "User adoption"
        THIRD_PARTY = "third_party", "Third party"
        OTHER = "other", "Other"

    class Likelihood(models.IntegerChoices):
        RARE = 1, "1 – Rare"
        UNLIKELY = 2, "2 – Unlikely"
        POSSIBLE = 3, "3 – Possible"
        LIKELY = 4, "4 – Likely"
        ALMOST_CERTAIN = 5, "5 – Almost certain"

    class Impact(models.IntegerChoices):
        NEGLIGIBLE = 1, "1 – Negligible"
        MINOR = 2, "2 – Minor"
        MODERATE = 3, "3 – Moderate"
        MAJOR = 4, "4 – Major"
        SEVERE = 5, "5 – Severe"

    class Strategy(models.TextChoices):
        AVOID = "avoid", "Avoid"
        MITIGATE = "mitigate", "Mitigate"
        TRANSFER = "transfer", "Transfer"
        ACCEPT = "accept", "Accept"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        MONITORING = "monitoring", "Monitoring"
        OCCURRED = "occurred", "Occurred"
        CLOSED = "closed", "Closed"

    class Band(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    OPEN_STATUSES = (Status.OPEN, Status.MONITORING)

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="risks")
    number = models.PositiveIntegerField(editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(
        help_text="Cause → event → effect: because of …, … may happen, which would lead to …"
    )
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    likelihood = models.PositiveSmallIntegerField(
        choices=Likelihood.choices, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    impact = models.PositiveSmallIntegerField(
        choices=Impact.choices, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    trigger = models.TextField(
        "trigger (early warning sign)", blank=True, help_text="What tells us it is about to happen."
    )
    response_strategy = models.CharField(
        max_length=10, choices=Strategy.choices, default=Strategy.MITIGATE
    )
    response_plan = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_risks",
        limit_choices_to=_ACTIVE_USER,
        error_messages=_OWNER_ERRORS,
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    next_review_date = models.DateField(null=True, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    # "It happened": the issue raised when the risk came to fruition (issue.source_risk back).
    issue = models.OneToOneField(
        Issue,
        verbose_name="issue raised",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="source_risk",
        editable=False,
    )
    occurred_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["account", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="risk_number_per_account"),
            models.CheckConstraint(
                condition=models.Q(likelihood__gte=1, likelihood__lte=5),
                name="risk_likelihood_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(impact__gte=1, impact__lte=5), name="risk_impact_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=["status", "likelihood", "impact"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("logs:risk_detail", args=[self.account_id, self.pk])

    @property
    def reference(self) -> str:
        return f"R-{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def score(self) -> int | None:
        if self.likelihood is None or self.impact is None:
            return None
        return self.likelihood * self.impact

    @property
    def band(self) -> "Risk.Band | None":
        from logs.scoring import risk_band

        return None if self.score is None else risk_band(self.score)

    @property
    def review_overdue(self) -> bool:
        return self.next_review_date is not None and self.next_review_date < timezone.localdate()

    @property
    def stale_reason(self) -> str:
        from logs.staleness import risk_stale_reason

        return risk_stale_reason(self, now=timezone.now())


class ExpansionOpportunity(VersionedModel):
    """A user or feature expansion the implementation team spotted, passed to the TA."""

    class Type(models.TextChoices):
        USER = "user", "User expansion"
        FEATURE = "feature", "Feature expansion"
        OTHER = "other", "Other"

    class Stage(models.TextChoices):
        IDENTIFIED = "identified", "Identified"
        TRANSITIONED = "transitioned", "Transitioned to TA"
        HANDED_TO_AE = "handed_to_ae", "Handed to account executive"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    ACTIVE_STAGES = (Stage.IDENTIFIED, Stage.TRANSITIONED, Stage.HANDED_TO_AE)

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="expansion_opportunities"
    )
    title = models.CharField(max_length=200)
    opportunity_type = models.CharField(
        "type", max_length=10, choices=Type.choices, default=Type.USER
    )
    description = models.TextField(blank=True)
    signal = models.TextField(
        "signal / evidence", blank=True, help_text="What we saw or heard that points to it."
    )
    estimated_additional_users = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(1_000_000)]
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_opportunities",
        limit_choices_to=_ACTIVE_USER,
        error_messages=_OWNER_ERRORS,
    )
    stage = models.CharField(max_length=15, choices=Stage.choices, default=Stage.IDENTIFIED)
    identified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    transitioned_at = models.DateTimeField(
        "transitioned to TA", null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["account", "-created_at", "-id"]
        verbose_name = "expansion opportunity"
        verbose_name_plural = "expansion opportunities"

    def __str__(self) -> str:
        return f"opportunity “{self.title}”"

    def get_absolute_url(self) -> str:
        return reverse("logs:opportunity_detail", args=[self.account_id, self.pk])


class StaleDigest(TimestampedModel):
    """One "Update requested" e-mail sent to one person on one day. The unique row makes the
    daily task safe to run twice (beat hiccup, a redelivered task): nobody gets two."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    sent_on = models.DateField()
    item_count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "sent_on"], name="one_digest_per_day")
        ]

    def __str__(self) -> str:
        return f"digest to {self.recipient} on {self.sent_on}"
