"""Implementation notes and sign-offs as Vitally notes (issue 16, item 4).

The same guarantees as the trait push (services.py), for one note at a time:
- The intent is NoteSync.version, bumped by a receiver in the transaction of the note's save
  (JournalEntry created or corrected, SignOff created); a note is due while it is ahead of
  acked_version. Several corrections before a push become one request of the latest text, and
  a note sent less than VITALLY_COALESCE_SECONDS ago waits that long.
- Whoever sends claims the row (SKIP LOCKED, then a lease on the database's clock renewed
  past the request's timeouts): never two requests for one note in flight.
- Every request takes a slot from the shared limiter and honours a 429's wait (Redis and
  PostgreSQL, as the trait push does); a refused key stops notes too.
- `inflight_at` is committed before each write and cleared by its answer. A POST whose answer
  never came may have created the note: the next push looks for it by externalId in the
  account's notes (Vitally's POST may refuse or upsert a duplicate externalId; either way no
  second note) and updates it with PUT /resources/notes/:id.
- Never an overwrite unasked (note_reconcile.py): before a PUT the push reads the note, and one
  changed, archived or deleted in Vitally since the portal sent it is held, as is a PUT
  answered 404 (deleted), until a person chooses (note_differences.py). What each
  acknowledged write sent is kept to compare with.
"""

import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.html import escape
from redis import RedisError

from vitally_sync.admins import admin_id_for_email
from vitally_sync.client import Kind, Result, VitallyClient
from vitally_sync.conf import SyncConfig, sync_config
from vitally_sync.limiter import RateLimiter, acquire, limiter_get
from vitally_sync.metrics import request_count_add
from vitally_sync.models import NOTE_HELD_STATES, NoteSync, SyncAttempt
from vitally_sync.note_reconcile import (
    Finding,
    finding_updates,
    note_decisions_recount,
    note_finding,
)
from vitally_sync.services import (
    ATTENTION_RETRY,
    KICK_RETRY_POLICY,
    LEASE_MARGIN_SECONDS,
    _db_in,
    _pause_share,
    backoff_seconds,
    client_get,
    key_refused_record,
    key_state_get,
)

logger = logging.getLogger(__name__)

NOTE_LIST_PAGES = 20  # looking for a note by externalId: at most this many pages of 100
SIGNED_OFF_SUBJECT = "Handoff signed off"
REOPENED_SUBJECT = "Handoff signed off, then reopened"
NO_TEXT = "Vitally's answer to reading the note has no text: nothing was sent over it."


# --- settings ------------------------------------------------------------------------------------
def notes_enabled() -> bool:
    return bool(getattr(settings, "VITALLY_NOTES_ENABLED", False))


def note_category_sent(category: str) -> bool:
    """VITALLY_NOTE_CATEGORIES: "all", or the JournalEntry categories that go to Vitally."""
    chosen = {c.strip() for c in getattr(settings, "VITALLY_NOTE_CATEGORIES", ["all"]) if c}
    return "all" in chosen or category in chosen


def note_categories_check(app_configs=None, **kwargs):
    """A category name that is not one (a typo) would silently send nothing: stop the deploy."""
    from django.core.checks import Error

    from logs.models import JournalEntry

    known = set(JournalEntry.Category.values) | {"all"}
    wrong = sorted({c.strip() for c in settings.VITALLY_NOTE_CATEGORIES if c} - known)
    if not wrong:
        return []
    message = (
        f"VITALLY_NOTE_CATEGORIES has unknown categories: {', '.join(wrong)} (known: all, "
        f"{', '.join(JournalEntry.Category.values)})."
    )
    return [Error(message, id="vitally_sync.E010")]


# --- payloads (pure) -----------------------------------------------------------------------------
def note_date(moment) -> str:
    """Vitally's datetime format: UTC with milliseconds and Z (vitally-api.md §4)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def portal_url(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def journal_note_html(entry) -> str:
    """The note as the portal shows it: the rendered, sanitised Markdown, and its link."""
    from logs.markdown import render_markdown

    html = str(render_markdown(entry.body))
    if entry.reference_url:
        url = escape(entry.reference_url)
        html += f'<p>Reference: <a href="{url}">{url}</a></p>'
    return html


def sign_off_note_html(sign_off) -> str:
    """Readiness, the blockers overridden with the reason, and the snapshot's address."""
    parts = [
        f"<p>Signed off by {escape(sign_off.signed_by_name)} on "
        f"{sign_off.signed_at:%Y-%m-%d %H:%M} UTC. Readiness: {sign_off.readiness_percent}%.</p>"
    ]
    blockers = sign_off.blockers or []
    if blockers:
        items = "".join(
            f"<li>{escape(b.get('title', ''))}"
            + (f": {escape(b['detail'])}" if b.get("detail") else "")
            + "</li>"
            for b in blockers
        )
        parts.append(f"<p>Blockers overridden ({len(blockers)}):</p><ul>{items}</ul>")
        parts.append(f"<p>Why: {escape(sign_off.override_reason)}</p>")
    else:
        parts.append("<p>No blockers were overridden.</p>")
    url = escape(portal_url(sign_off.get_absolute_url()))
    parts.append(f'<p>Snapshot of the handoff: <a href="{url}">{url}</a></p>')
    if sign_off.reopened_at is not None:  # first, so nobody reads the note as current
        by = str(sign_off.reopened_by) if sign_off.reopened_by else "someone"
        parts.insert(
            0,
            f"<p><strong>Reopened</strong> by {escape(by)} on "
            f"{sign_off.reopened_at:%Y-%m-%d %H:%M} UTC: "
            f"{escape(sign_off.reopen_reason.strip().rstrip('.'))}. "
            "The account is back in implementation; this sign-off no longer holds.</p>",
        )
    return "".join(parts)


def note_payload_build(row: NoteSync, *, account_id: str) -> dict[str, Any]:
    """The body of POST /resources/notes (and of its PUT): externalId only on create is
    Vitally's rule, so the PUT body leaves it out (`note_put_body`)."""
    entry, sign_off = row.journal_entry, row.sign_off
    if entry is not None:
        subject, html, moment = entry.title, journal_note_html(entry), entry.created_at
    elif sign_off is not None:
        subject = REOPENED_SUBJECT if sign_off.reopened_at else SIGNED_OFF_SUBJECT
        html, moment = sign_off_note_html(sign_off), sign_off.signed_at
    else:  # the table's check forbids it: one source or the other
        raise ValueError(f"{row} has neither an implementation note nor a sign-off")
    payload = {
        "externalId": row.vitally_external_id,
        "accountId": account_id,
        "subject": subject,
        "note": html,
        "noteDate": note_date(moment),
    }
    if row.author_id:
        payload["authorId"] = row.author_id
    return payload


def note_put_body(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "externalId"}


def note_author_email(row: NoteSync) -> str:
    entry, sign_off = row.journal_entry, row.sign_off
    author = entry.author if entry is not None else sign_off.signed_by if sign_off else None
    return (getattr(author, "email", "") or "").strip()


# --- the intent (in the note's transaction) ------------------------------------------------------
def note_intent_record(*, account_id: int, external_id: str, **source) -> None:
    """A note changed: it is due (a row bumped, or created). Called inside the transaction of
    the change, so the intent commits with it; the kick goes after the commit."""
    bumped = NoteSync.objects.filter(external_id=external_id).update(
        version=F("version") + 1, next_attempt_at=None
    )
    if not bumped:
        NoteSync.objects.create(account_id=account_id, external_id=external_id, **source)
    transaction.on_commit(lambda: note_kick(external_id=external_id))


def journal_entry_saved(sender, instance, **kwargs) -> None:
    if notes_enabled() and note_category_sent(instance.category):
        note_intent_record(
            account_id=instance.account_id,
            external_id=f"handoff-note-{instance.pk}",
            journal_entry=instance,
        )


def sign_off_saved(sender, instance, created: bool, **kwargs) -> None:
    """A sign-off, and its reopening (the one later write): the note says it was reopened."""
    if notes_enabled() and (created or instance.reopened_at is not None):
        note_intent_record(
            account_id=instance.account_id,
            external_id=f"handoff-signoff-{instance.pk}",
            sign_off=instance,
        )


def note_kick(*, external_id: str) -> bool:
    """Queue a push now (best effort: the sweeper sends it otherwise)."""
    if not sync_config().enabled:
        return False
    from vitally_sync.tasks import note_push

    try:
        note_push.apply_async(
            (external_id,), retry=True, retry_policy=KICK_RETRY_POLICY, ignore_result=True
        )
    except Exception:  # the broker is down: the row still says "due"
        logger.warning("Could not queue Vitally note %s; the sweeper will send it.", external_id)
        return False
    return True


# --- claiming -------------------------------------------------------------------------------------
def _lease_free() -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lte=Now())


def notes_held_q() -> Q:
    """Not sent until a person chooses (NoteSync.held): found changed, archived or deleted in
    Vitally, or left as Vitally has it."""
    return Q(in_vitally__in=NOTE_HELD_STATES) | Q(left_at__isnull=False)


def notes_due_q() -> Q:
    waited = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=Now())
    linked = ~Q(account__vitally_account_id="")
    return Q(version__gt=F("acked_version")) & linked & waited & ~notes_held_q()


@dataclass(frozen=True)
class NoteClaim:
    pk: int
    token: uuid.UUID


def note_claim(
    *, config: SyncConfig, external_id: str | None = None, exclude: frozenset | set = frozenset()
) -> NoteClaim | None:
    with transaction.atomic():
        rows = NoteSync.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            _lease_free(), notes_due_q()
        )
        if external_id is not None:
            rows = rows.filter(external_id=external_id)
        if exclude:
            rows = rows.exclude(pk__in=exclude)
        pk = (
            rows.order_by(F("next_attempt_at").asc(nulls_first=True), "pk")
            .values_list("pk", flat=True)
            .first()
        )
        if pk is None:
            return None
        token = uuid.uuid4()
        won = NoteSync.objects.filter(_lease_free(), pk=pk).update(
            lease_token=token, lease_until=_db_in(config.lease_seconds)
        )
    return NoteClaim(pk, token) if won else None


def _mine(claim: NoteClaim):
    return NoteSync.objects.filter(pk=claim.pk, lease_token=claim.token, lease_until__gt=Now())


def _release(claim: NoteClaim) -> None:
    NoteSync.objects.filter(pk=claim.pk, lease_token=claim.token).update(
        lease_token=None, lease_until=None
    )


# --- pushing --------------------------------------------------------------------------------------
class NoteOutcome(StrEnum):
    SENT = "sent"
    DEFERRED = "deferred"  # the limiter, a 429's wait or coalescing said later
    RATE_LIMITED = "rate_limited"
    RETRYING = "retrying"
    FAILED = "failed"
    ATTENTION = "attention"
    SKIPPED = "skipped"
    HELD = "held"  # changed, archived or deleted in Vitally: waits for a person's decision


@dataclass
class NoteReport:
    outcome: NoteOutcome = NoteOutcome.SKIPPED
    requests: int = 0
    message: str = ""
    limited: bool = False


class _Stop(Exception):
    """A request did not give what the push needs: the report says what happens next."""

    def __init__(self, report: NoteReport):
        self.report = report


@dataclass
class _Pusher:
    claim: NoteClaim
    config: SyncConfig
    client: VitallyClient
    limiter: RateLimiter
    max_wait: float
    report: NoteReport = field(default_factory=NoteReport)

    def call(self, method: str, path: str, *, json=None, params=None, write=False) -> Result:
        """One request through the limiter and the key's state; a 429 is shared with every
        worker. A write is marked in flight (committed) first, and the lease renewed."""
        self.gate(write=write)
        return self.answered(self.client.request(method, path, json=json, params=params))

    def gate(self, *, write: bool = False) -> None:
        """Before any request: the key works, no 429's wait runs, a limiter slot is taken, and
        the lease covers the request's timeouts."""
        key = key_state_get(self.config)
        if key.auth_error:
            self.stop(NoteOutcome.FAILED, key.auth_error, retry_in=self.config.key_probe_seconds)
        if key.paused_for > 0:
            self.defer(key.paused_for)
        wait = acquire(
            self.limiter, per_minute=self.config.rate_limit_per_minute, max_wait=self.max_wait
        )
        if wait:
            self.defer(wait)
        if (paused := self.limiter.paused_for()) > 0:
            self.defer(paused)
        seconds = max(self.config.lease_seconds, self.config.request_seconds + LEASE_MARGIN_SECONDS)
        marks = {"inflight_at": timezone.now()} if write else {}
        if not _mine(self.claim).update(lease_until=_db_in(seconds), **marks):
            raise _Stop(NoteReport(NoteOutcome.SKIPPED, self.report.requests, "The claim lapsed."))

    def answered(self, result: Result) -> Result:
        """After any request: a 429, a refused key or a failure that may pass ends the push."""
        self.report.requests += 1
        request_count_add(_ATTEMPT_OUTCOME[result.kind])
        if result.kind is Kind.RATE_LIMITED:
            _pause_share(self.config, self.limiter, result.wait_seconds or 0.0)
            self.stop(NoteOutcome.RATE_LIMITED, result.message, retry_in=result.wait_seconds)
        if result.auth_failed:
            key_refused_record(self.config, result.message)
            self.stop(NoteOutcome.FAILED, result.message, retry_in=self.config.key_probe_seconds)
        if result.kind is Kind.TRANSIENT:  # a write may have been applied: inflight_at stays
            self.failure(result.message)
        return result

    def defer(self, seconds: float) -> None:
        _mine(self.claim).update(next_attempt_at=_db_in(seconds))
        raise _Stop(NoteReport(NoteOutcome.DEFERRED, self.report.requests, limited=True))

    def stop(self, outcome: NoteOutcome, message: str, *, retry_in: float | None) -> None:
        status = {
            NoteOutcome.FAILED: NoteSync.Status.FAILED,
            NoteOutcome.ATTENTION: NoteSync.Status.ATTENTION,
        }.get(outcome, NoteSync.Status.RETRYING)
        now = timezone.now()
        _mine(self.claim).update(
            status=status,
            next_attempt_at=now + timedelta(seconds=retry_in or 0),
            last_error=message,
            last_error_at=now,
            last_attempt_at=now,
        )
        limited = outcome is NoteOutcome.RATE_LIMITED
        raise _Stop(NoteReport(outcome, self.report.requests, message, limited=limited))

    def failure(self, message: str) -> None:
        """It may pass (5xx, no answer): backoff; too many in a row needs attention."""
        attempts = (_mine(self.claim).values_list("attempts", flat=True).first() or 0) + 1
        _mine(self.claim).update(attempts=attempts)
        if attempts >= self.config.quarantine_after:
            self.stop(NoteOutcome.ATTENTION, message, retry_in=ATTENTION_RETRY.total_seconds())
        delay = backoff_seconds(
            attempts=attempts, base=self.config.backoff_base, cap=self.config.backoff_cap
        )
        self.stop(NoteOutcome.RETRYING, message, retry_in=delay)

    def refused(self, result: Result) -> None:
        """A 4xx on the note: retrying the same request will not help; a person looks (it is
        retried hourly, and at once when the note is corrected). inflight_at stays: an earlier
        POST whose answer was lost may still have landed, so the next push looks first."""
        _mine(self.claim).update(attempts=F("attempts") + 1)
        self.stop(NoteOutcome.ATTENTION, result.message, retry_in=ATTENTION_RETRY.total_seconds())


_ATTEMPT_OUTCOME = {
    Kind.OK: SyncAttempt.Outcome.PUSHED,
    Kind.RATE_LIMITED: SyncAttempt.Outcome.RATE_LIMITED,
    Kind.TRANSIENT: SyncAttempt.Outcome.TRANSIENT,
    Kind.FAILED: SyncAttempt.Outcome.FAILED,
}


def note_claimed_push(
    *,
    claim: NoteClaim,
    config: SyncConfig | None = None,
    client: VitallyClient | None = None,
    limiter: RateLimiter | None = None,
    max_wait: float = 5.0,
) -> NoteReport:
    """Send the claimed note's latest text; always releases the claim. An exception is
    recorded on the note as a failure (it never stops a sweep)."""
    config = config or sync_config()
    pusher = _Pusher(
        claim=claim,
        config=config,
        client=client or client_get(config),
        limiter=limiter or limiter_get(config.redis_url),
        max_wait=max_wait,
    )
    try:
        return _push(pusher)
    except _Stop as stop:
        return stop.report
    except Exception as error:
        logger.exception("Sending note %s to Vitally raised", claim.pk)
        try:
            pusher.failure(f"The push failed inside the portal ({type(error).__name__}: {error})")
        except _Stop as stop:
            return stop.report
        raise  # pragma: no cover  (failure always stops)
    finally:
        _release(claim)


def _push(p: _Pusher) -> NoteReport:
    row = (
        _mine(p.claim)
        .select_related("account", "journal_entry__author", "sign_off__reopened_by")
        .first()
    )
    if row is None:
        return NoteReport(NoteOutcome.SKIPPED, message="The claim lapsed.")
    if row.vitally_note_id and row.last_attempt_at and p.config.coalesce_seconds:
        # Corrections in quick succession wait for one PUT of the latest text.
        due = row.last_attempt_at + timedelta(seconds=p.config.coalesce_seconds)
        if due > timezone.now():
            _mine(p.claim).update(next_attempt_at=due)
            return NoteReport(NoteOutcome.DEFERRED)
    key = row.account.vitally_account_id
    target = row.target_id if row.target_key == key else ""
    if not target:  # the note's accountId is Vitally's id; the portal may hold the externalId
        result = p.call("GET", f"/resources/accounts/{quote(key, safe='')}")
        if not result.ok or not isinstance(result.body, dict) or not result.body.get("id"):
            p.refused(result)
        target = str(result.body["id"])
        _mine(p.claim).update(target_key=key, target_id=target)
    if not row.author_looked_up and (email := note_author_email(row)):
        p.gate()
        author_id, result = admin_id_for_email(p.client, email)
        p.answered(result)  # found, or Vitally has none (a 404 included): asked once
        row.author_id, row.author_looked_up = author_id, True
        _mine(p.claim).update(author_id=author_id, author_looked_up=True)
    # The version and the text came from one query (one snapshot): what is sent is at least it.
    version = row.version
    payload = note_payload_build(row, account_id=target)
    note_id = row.vitally_note_id
    if not note_id and row.inflight_at is not None:
        note_id = _find(p, target, row.vitally_external_id)  # a POST whose answer never came
    elif note_id and row.inflight_at is None and row.sent_note and not row.overwrite:
        # Look before overwriting: Vitally is known to hold what was sent (no write's answer
        # was lost), so a note that is not that any more was changed there by someone.
        looked = p.call("GET", f"/resources/notes/{quote(note_id, safe='')}")
        finding = note_finding(
            sent_subject=row.sent_subject, sent_note=row.sent_note, result=looked
        )
        if finding is None:  # a 4xx, or an answer without the note's text: a person looks
            p.refused(looked if not looked.ok else replace(looked, message=NO_TEXT))
        elif finding.held:
            return _hold(p, row, finding)
    for _ in range(3):  # PUT, or POST; a refused duplicate leads to the PUT
        if note_id:
            result = p.call(
                "PUT",
                f"/resources/notes/{quote(note_id, safe='')}",
                json=note_put_body(payload),
                write=True,
            )
            if result.http_status == 404:  # deleted in Vitally: a person decides, not us
                return _hold(p, row, Finding(NoteSync.InVitally.DELETED))
        else:
            result = p.call("POST", "/resources/notes", json=payload, write=True)
            if result.http_status in (400, 409) and _duplicate(result):
                note_id = _find(p, target, row.vitally_external_id)
                if note_id:
                    continue
        break
    if not result.ok:
        p.refused(result)
    body = result.body if isinstance(result.body, dict) else {}
    now = timezone.now()
    # Vitally took the text; a note archived there (a PUT, or a POST that updated the archived
    # note with this externalId) is still out of sight: held for a decision like a read's.
    # Otherwise what Vitally holds is what was sent, until the next read says more.
    archived = bool(body.get("archivedAt"))
    finding = Finding(NoteSync.InVitally.ARCHIVED)
    read = finding_updates(row, finding, now) if archived else _UNREAD
    _mine(p.claim).update(
        acked_version=version,
        vitally_note_id=str(body.get("id") or note_id),
        status=NoteSync.Status.SYNCED,
        attempts=0,
        inflight_at=None,
        next_attempt_at=None,
        last_attempt_at=now,
        last_pushed_at=now,
        last_error="",
        sent_subject=payload["subject"],
        sent_note=payload["note"],
        overwrite=False,
        **read,
    )
    if archived:
        note_decisions_recount(account_id=row.account_id)
        return NoteReport(NoteOutcome.HELD, p.report.requests, HELD_MESSAGES[finding.state])
    return NoteReport(NoteOutcome.SENT, p.report.requests, "Accepted by Vitally.")


# An acknowledged write: not read back since it was sent.
_UNREAD = {
    "in_vitally": NoteSync.InVitally.UNKNOWN,
    "vitally_subject": "",
    "vitally_note": "",
    "in_vitally_since": None,
    "read_at": None,
    "read_version": F("read_version") + 1,
}


HELD_MESSAGES: dict[str, str] = {
    NoteSync.InVitally.CHANGED: "Someone changed the note in Vitally: a person decides.",
    NoteSync.InVitally.ARCHIVED: "The note is archived in Vitally: a person decides.",
    NoteSync.InVitally.DELETED: "The note was deleted in Vitally: a person decides.",
}


def _hold(p: _Pusher, row: NoteSync, finding: Finding) -> NoteReport:
    """What the push found in Vitally holds the note: recorded as a read's finding, nothing
    sent (a PUT answered 404 was not applied), until a person chooses."""
    now = timezone.now()
    _mine(p.claim).update(
        status=NoteSync.Status.PENDING,
        attempts=0,
        inflight_at=None,
        next_attempt_at=None,
        last_attempt_at=now,
        last_error="",
        overwrite=False,
        **finding_updates(row, finding, now),
    )
    note_decisions_recount(account_id=row.account_id)
    return NoteReport(NoteOutcome.HELD, p.report.requests, HELD_MESSAGES[finding.state])


def _duplicate(result: Result) -> bool:
    said = str((result.body or {}).get("error") or (result.body or {}).get("message") or "")
    return result.http_status == 409 or "externalid" in said.lower()


def _find(p: _Pusher, account_id: str, external_id: str) -> str:
    """The Vitally id of the account's note with this externalId, or "" (newest first: a note
    just created is on the first page). Kept on the row at once: what is found stays found."""
    note_id = _list_find(p, account_id, external_id)
    if note_id:
        _mine(p.claim).update(vitally_note_id=note_id)
    return note_id


def _list_find(p: _Pusher, account_id: str, external_id: str) -> str:
    cursor = None
    for _ in range(NOTE_LIST_PAGES):
        params = {"limit": 100, **({"from": cursor} if cursor else {})}
        result = p.call(
            "GET", f"/resources/accounts/{quote(account_id, safe='')}/notes", params=params
        )
        if not result.ok or not isinstance(result.body, dict):
            p.refused(result)
        for note in result.body.get("results") or []:
            if isinstance(note, dict) and note.get("externalId") == external_id:
                return str(note.get("id") or "")
        cursor = result.body.get("next")
        if not cursor:
            return ""
    return ""


def note_push(*, external_id: str) -> NoteReport:
    """The on-commit kick: send this note now if it is due and nobody holds it."""
    config = sync_config()
    if not config.enabled:
        return NoteReport(NoteOutcome.SKIPPED, message="Vitally sync is not configured.")
    claim = note_claim(config=config, external_id=external_id)
    if claim is None:
        return NoteReport(NoteOutcome.SKIPPED, message="Not due, or someone else is sending it.")
    return note_claimed_push(claim=claim, config=config)


def notes_sweep(*, budget: float = 25.0, max_wait: float = 5.0) -> dict[str, int]:
    """One pass (beat every VITALLY_SWEEP_SECONDS): send every due note until none is due, the
    rate limit says later, or `budget` seconds are used. Returns the outcomes counted."""
    config = sync_config()
    counts: dict[str, int] = {}
    if not config.enabled:
        return counts
    client, limiter = client_get(config), limiter_get(config.redis_url)
    deadline = time.monotonic() + budget
    seen: set[int] = set()
    while time.monotonic() < deadline:
        try:
            if limiter.paused_for() > max_wait:
                break
        except RedisError:
            logger.warning("Could not read the shared Vitally pause from Redis")
        claim = note_claim(config=config, exclude=seen)
        if claim is None:
            break
        seen.add(claim.pk)
        report = note_claimed_push(
            claim=claim, config=config, client=client, limiter=limiter, max_wait=max_wait
        )
        counts[report.outcome.value] = counts.get(report.outcome.value, 0) + 1
        if report.limited:
            break
    return counts
