from django.db import models
from django.utils import timezone

from handoff.accounts.models import Account
from vitally_sync.payloads import trait_field_get


class AccountSync(models.Model):
    """Where one account stands with Vitally.

    The durable intent to push is Account.change_version, bumped by the domain in the same
    transaction as every change; the account needs a push while it is ahead of
    `acked_version`, the version of the last state Vitally acknowledged.

    What Vitally holds is known only from a 2xx: `acked_traits` is, per trait key, the value
    Vitally acknowledged. Before each request the payload is written to `inflight_traits` in a
    committed write; a request that ends without a 2xx (timeout, dropped connection, 5xx, a
    killed worker) may or may not have been applied, so its keys become unknown and the next
    push sends them again. A push sends only the keys whose value differs from what Vitally is
    known to hold: an edit never overwrites a trait someone changed by hand in Vitally unless
    the portal's value of that trait changed too."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SYNCED = "synced", "Synced"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Failed"  # Vitally refuses the API key (401/403): a state of the key
        ATTENTION = "attention", "Needs attention"  # a 4xx on the account, or too many failures

    account = models.OneToOneField(
        Account, primary_key=True, on_delete=models.CASCADE, related_name="vitally_sync"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    acked_version = models.PositiveBigIntegerField(default=0)
    # A 4xx on the account (Needs attention) is retried when the account changes past this
    # version, hourly, or by hand; 0 when only time or a person lifts it (quarantine).
    failed_version = models.PositiveBigIntegerField(default=0)
    failed_key = models.CharField(max_length=16, blank=True)  # fingerprint of the refused key
    # "Push now", a backfill, or an acknowledgement that arrived after the lease was lost ask
    # for a full push (every trait); a push that started after the ask answers it. Counters,
    # not a flag, so an ask that lands during a push is never cleared by that push.
    full_push_asked = models.PositiveIntegerField(default=0)
    full_push_done = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)  # consecutive failures since a success
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # backoff / 429 / hourly
    # The claim: whoever holds an unexpired lease (on the database's clock) is the only one
    # pushing this account.
    lease_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)  # last request answered
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_pushed_at = models.DateTimeField(null=True, blank=True)  # last acknowledged push
    pushed_vitally_id = models.CharField(max_length=100, blank=True)  # acked_traits' account
    acked_traits = models.JSONField(null=True, blank=True)  # what Vitally is known to hold
    inflight_traits = models.JSONField(null=True, blank=True)  # sent, answer not yet recorded
    inflight_at = models.DateTimeField(null=True, blank=True)
    # The trait map and value formats the acknowledged state was built with: when they change,
    # every linked account is due (conf.SyncConfig.fingerprint).
    config_fingerprint = models.CharField(max_length=16, blank=True)
    # When the acknowledged version was read: a change after it is not in Vitally yet.
    synced_through = models.DateTimeField(null=True, blank=True)
    # How many fields a read back found changed in Vitally and nobody has resolved yet
    # (TraitDifference rows, counted here so the badge costs no query): while any is open the
    # badge says "Differs in Vitally", and pushes leave those traits as they are.
    differences = models.PositiveIntegerField(default=0)
    # How many of the account's notes differ in Vitally (changed, archived or deleted there)
    # and wait for a person's decision (NoteSync.differs; counted by
    # note_differences.note_decisions_recount), so the attention list costs no query.
    note_decisions = models.PositiveIntegerField(default=0)
    # When Vitally was last read back and compared with the known state (vitally_sync/
    # reconcile.py): the least recently checked are read first.
    reconciled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Vitally sync state"
        verbose_name_plural = "Vitally sync states"
        ordering = ["account__name"]

    def __str__(self) -> str:
        return f"Vitally sync of {self.account}"

    @property
    def push_requested(self) -> bool:
        """A full push was asked for and no push started since has answered it."""
        return self.full_push_asked > self.full_push_done


class VitallyKey(models.Model):
    """What Vitally said about an API key, durable (PostgreSQL), so every worker, command and
    host honours it across Redis restarts and killed processes:

    - `paused_until`: a 429's announced wait; nobody sends before it ends.
    - `auth_error`: Vitally refused the key (401/403). While set, no push is sent with it; at
      most one probe a minute asks whether it works again, and when it does every account
      that failed with it is queued again."""

    fingerprint = models.CharField(max_length=16, primary_key=True)
    paused_until = models.DateTimeField(null=True, blank=True)
    auth_error = models.TextField(blank=True)
    auth_failed_at = models.DateTimeField(null=True, blank=True)
    probe_after = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Vitally API key state"
        verbose_name_plural = "Vitally API key states"

    def __str__(self) -> str:
        return f"Vitally API key {self.fingerprint[:6]}…"


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


class RequestCount(models.Model):
    """Requests sent to Vitally, per outcome, since the portal was installed: the counter that
    /metrics exports (vitally_sync.metrics). SyncAttempt cannot stand in for it: only the latest
    attempts of each account are kept, so a count of those rows falls when they are pruned, and
    a Prometheus counter must only rise. In PostgreSQL, so every process adds to one number and
    a restart loses nothing."""

    outcome = models.CharField(max_length=20, primary_key=True, choices=SyncAttempt.Outcome.choices)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "Vitally request count"
        verbose_name_plural = "Vitally request counts"

    def __str__(self) -> str:
        return f"{self.get_outcome_display()}: {self.count}"


class TraitDifference(models.Model):
    """A trait whose value in Vitally is not the portal's, found one of two ways (`origin`):
    a read back (reconcile.py) found that someone changed it in Vitally after the portal sent
    its value, or the account was linked (linking.py) to a Vitally account that already held
    another value, which the portal never sent over. One row per account and trait key, as last
    found; a later read that agrees clears it, and so does resolving it ("Keep the portal's
    value" or "Take Vitally's value")."""

    class Origin(models.TextChoices):
        READ_BACK = "read_back", "Changed in Vitally"
        LINK = "link", "Held in Vitally when linked"

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="vitally_differences"
    )
    trait_key = models.CharField(max_length=200)
    field_name = models.CharField(max_length=50, help_text="The portal field (payloads.py).")
    # Both as trait values (JSON); null is "empty" in the portal and "not set" in Vitally.
    portal_value = models.JSONField(null=True, blank=True)
    vitally_value = models.JSONField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    # Rises when a read finds other values: a resolve form shown before is refused.
    version = models.PositiveIntegerField(default=1)
    # Where it came from; a later read that finds other values keeps it (the portal still
    # never sent its value over a link's).
    origin = models.CharField(
        max_length=10, choices=Origin.choices, default=Origin.READ_BACK, db_default="read_back"
    )

    class Meta:
        verbose_name = "difference in Vitally"
        verbose_name_plural = "differences in Vitally"
        ordering = ["account", "first_seen_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "trait_key"], name="traitdifference_one_per_account_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} differs in Vitally"

    @property
    def label(self) -> str:
        """The handbook's words for the field."""
        field = trait_field_get(self.field_name)
        return field.label if field else self.trait_key

    @property
    def from_link(self) -> bool:
        return self.origin == self.Origin.LINK

    @property
    def clears_vitally(self) -> bool:
        """The portal has no value: keeping it deletes Vitally's (a push sends null)."""
        return self.portal_value is None


# --- Notes (issue 16, item 4): implementation notes and sign-offs as Vitally notes ----------------
class NoteSync(models.Model):
    """One portal note that goes to Vitally as a note: an implementation note (JournalEntry) or
    the "Handoff signed off" note of a sign-off. The outbox row, as AccountSync is for traits.

    The durable intent is `version`, written in the transaction of the note's change (a
    receiver on its save); the note is due while `version` is ahead of `acked_version`.
    `vitally_note_id` is the id Vitally returned (PUT takes it). `inflight_at` is set, committed,
    before each request and cleared by its answer: still set when a POST's answer never came,
    it says Vitally may hold the note already, so the next push first looks for it by
    externalId instead of creating a second one. A lease (on the database's clock) keeps two
    requests for one note from ever being in flight."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SYNCED = "synced", "Sent"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Failed"  # the API key is refused
        ATTENTION = "attention", "Needs attention"  # a 4xx, or too many failures in a row

    class InVitally(models.TextChoices):
        """What the last read of the note in Vitally found (or a push's look before it
        overwrote the note): the last three hold the portal's corrections until a person
        chooses to send the portal's text or to leave Vitally's note."""

        UNKNOWN = "", "Not read back yet"
        AGREES = "agrees", "As sent"
        CHANGED = "changed", "Changed in Vitally"
        ARCHIVED = "archived", "Archived in Vitally"
        DELETED = "deleted", "Deleted in Vitally"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="vitally_notes")
    external_id = models.CharField(max_length=100, unique=True)  # stable: handoff-note-<pk>
    journal_entry = models.OneToOneField(
        "logs.JournalEntry",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="vitally_note",
    )
    sign_off = models.OneToOneField(
        "closeout.SignOff",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="vitally_note",
    )
    version = models.PositiveIntegerField(default=1)
    acked_version = models.PositiveIntegerField(default=0)
    vitally_note_id = models.CharField(max_length=100, blank=True)
    # The account's Vitally id (a note's accountId) as resolved from the portal's Vitally
    # account id, which may be the externalId: resolved again when that changes.
    target_key = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    # The author's Vitally admin id, looked up once by e-mail ("" when Vitally has none).
    author_id = models.CharField(max_length=100, blank=True)
    author_looked_up = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    inflight_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # --- the read back (note_reconcile.py) and a person's decision (note_differences.py) ---
    # What the portal last sent and Vitally acknowledged: what a read of the note is compared
    # with. Empty until the first acknowledgement (a note sent before the read back existed is
    # read once it is sent again).
    sent_subject = models.TextField(blank=True)
    sent_note = models.TextField(blank=True)
    # Which Vitally note holds it: 0 is the first. "Send the portal's text" over a note
    # archived or deleted in Vitally creates a new one, under a new externalId
    # (`vitally_external_id`): the archived note keeps the old one.
    generation = models.PositiveSmallIntegerField(default=0)
    in_vitally = models.CharField(
        max_length=10, choices=InVitally.choices, blank=True, default=InVitally.UNKNOWN
    )
    # Vitally's subject and text when the last read found them changed (shown beside the
    # portal's; never sent anywhere).
    vitally_subject = models.TextField(blank=True)
    vitally_note = models.TextField(blank=True)
    in_vitally_since = models.DateTimeField(null=True, blank=True)  # first found so
    read_at = models.DateTimeField(null=True, blank=True)  # last read back: oldest read first
    # Rises with each new finding and each decision: a form shown before is refused.
    read_version = models.PositiveIntegerField(default=1)
    # "Send the portal's text": the next push sends over Vitally's, without looking first.
    overwrite = models.BooleanField(default=False)
    # "Leave Vitally's note": the portal no longer sends this note (its corrections stay in
    # the portal).
    left_at = models.DateTimeField(null=True, blank=True)
    left_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name = "Vitally note"
        verbose_name_plural = "Vitally notes"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(journal_entry__isnull=False) ^ models.Q(sign_off__isnull=False),
                name="notesync_one_source",
            )
        ]

    def __str__(self) -> str:
        return f"Vitally note {self.external_id}"

    @property
    def due(self) -> bool:
        return self.version > self.acked_version

    @property
    def differs(self) -> bool:
        """Vitally's note is not what the portal sent, and nobody has chosen yet."""
        return self.left_at is None and self.in_vitally in NOTE_HELD_STATES

    @property
    def held(self) -> bool:
        """The portal's corrections are not sent (`notes.notes_held_q` says the same in SQL)."""
        return self.differs or self.left_at is not None

    @property
    def found_words(self) -> str:
        """What the last read found, inside a sentence ("changed in Vitally")."""
        return NOTE_FOUND_WORDS.get(self.in_vitally, "not read back yet")

    @property
    def vitally_external_id(self) -> str:
        """The externalId of the Vitally note that holds it now (see `generation`)."""
        return (
            self.external_id if not self.generation else f"{self.external_id}-{self.generation + 1}"
        )


NOTE_FOUND_WORDS: dict[str, str] = {
    NoteSync.InVitally.CHANGED: "changed in Vitally",
    NoteSync.InVitally.ARCHIVED: "archived in Vitally",
    NoteSync.InVitally.DELETED: "deleted in Vitally",
    NoteSync.InVitally.AGREES: "as sent",
}
NOTE_HELD_STATES = (
    NoteSync.InVitally.CHANGED,
    NoteSync.InVitally.ARCHIVED,
    NoteSync.InVitally.DELETED,
)


# --- the mirror of Vitally's accounts (vitally_sync/mirror.py) ---------------------------------
class VitallyAccount(models.Model):
    """One of Vitally's accounts as the last pull saw it (GET /resources/accounts): what the
    account form's search and the import page list. Only the traits the portal maps are kept."""

    vitally_id = models.CharField(max_length=100, primary_key=True)
    external_id = models.CharField(max_length=200, blank=True, db_index=True)
    name = models.CharField(max_length=300, db_index=True)
    traits = models.JSONField(default=dict, blank=True)  # {trait key: value}, mapped keys only
    # The Vitally admins named on it (accountOwnerId, csmId, accountExecutiveId): the import
    # matches them to people by e-mail (GET /resources/admins/search).
    admin_ids = models.JSONField(default=list, blank=True)
    vitally_updated_at = models.DateTimeField(help_text="Vitally's updatedAt.")
    last_seen_at = models.DateTimeField(help_text="When a pull last saw it.")

    class Meta:
        verbose_name = "Vitally account (mirror)"
        verbose_name_plural = "Vitally accounts (mirror)"
        ordering = ["name", "vitally_id"]

    def __str__(self) -> str:
        return self.name


class MirrorState(models.Model):
    """Where the pull stands, one row per Vitally base URL: the watermark an incremental pull
    stops at, and a pass under way (its cursor), so a pass a 429 or a lost answer stopped
    resumes where it was instead of starting over."""

    base_url = models.CharField(max_length=300, primary_key=True)
    # The newest updatedAt a completed pass saw: an incremental pull stops below it.
    watermark = models.DateTimeField(null=True, blank=True)
    pass_full = models.BooleanField(default=False)
    pass_cursor = models.TextField(blank=True)  # "" with pass_started_at set: the first page
    pass_started_at = models.DateTimeField(null=True, blank=True)
    pass_top = models.DateTimeField(null=True, blank=True)  # the pass's newest updatedAt
    last_pull_at = models.DateTimeField(null=True, blank=True)  # last completed pass
    last_full_at = models.DateTimeField(null=True, blank=True)  # last completed full pass
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Vitally mirror state"
        verbose_name_plural = "Vitally mirror states"

    def __str__(self) -> str:
        return f"Vitally mirror of {self.base_url}"
