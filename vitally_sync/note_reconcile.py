"""Notes read back: is each note the portal sent still what it sent? (issue 16, item 4)

The traits' reconcile (reconcile.py) for notes. A note someone edits, archives (Vitally's soft
delete, `archivedAt`) or deletes in Vitally would otherwise be overwritten, or created again, by
the portal's next correction, and nobody would know. So:

- Each acknowledged push stores what it sent (`NoteSync.sent_subject`, `sent_note`).
- Beat's `vitally_sync.notes_read_back` reads each sent note (`GET /resources/notes/:id`, least
  recently read first) through the gate of every background pass (`services.pass_may_go_on`:
  time, a refused key, a 429's wait), the shared limiter and the reconcile's pacer (its share of
  the rate limit, shared with the accounts' reads), and records what it finds: as sent, changed
  in Vitally (Vitally's subject and text kept to show), archived or deleted in Vitally.
- A push looks at the note before it overwrites it (notes._push), and a PUT answered 404 is
  recorded as deleted in Vitally: never created again unasked.
- A note found changed, archived or deleted is held: the portal's corrections wait until a
  person chooses (note_differences.py). A later read that finds it as sent lifts the hold.

What a person reads counts, not how it is written: Vitally keeps only some HTML tags and its
editor writes its own, so the words and the links are compared, without spacing (`note_words`).
A read is compared only if the note's row is unchanged since it began (checked under the row's
lock); a note that is due, held by a push, or whose last write's answer was lost is not read
(its push is about to change what Vitally holds), unless it is held for a decision.
"""

import logging
import math
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import quote

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from vitally_sync.client import Kind, Result, VitallyClient
from vitally_sync.conf import SyncConfig, sync_config
from vitally_sync.limiter import RateLimiter, limiter_get
from vitally_sync.models import NOTE_FOUND_WORDS, NOTE_HELD_STATES, AccountSync, NoteSync
from vitally_sync.reconcile import ReadBackReport, _lease_free, pacer_get
from vitally_sync.services import AGAIN, client_get, pass_answered, pass_may_go_on, pass_slot

logger = logging.getLogger(__name__)
InVitally = NoteSync.InVitally


# --- comparing (pure) ---------------------------------------------------------------------------
class _Words(HTMLParser):
    """The words of a note's HTML and where its links point: what a person reads of it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0  # inside <script> or <style>: not read by anyone

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        for name, value in attrs:
            if (tag, name) in (("a", "href"), ("img", "src")) and value:
                self.parts.append(f"<{value.strip()}>")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


_SPACE = re.compile(r"\s+")


def note_words(html: Any) -> str:
    """A note's HTML as compared: its words and link targets, without tags or spacing. A tag
    Vitally drops (a heading, a table) or its editor rewrites (<b> for <strong>, a <p> added)
    changes nothing; a changed word or link does."""
    parser = _Words()
    parser.feed(str(html or ""))
    parser.close()
    return _SPACE.sub("", unicodedata.normalize("NFKC", "".join(parser.parts)))


def subject_words(subject: Any) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(subject or "")).split())


@dataclass(frozen=True)
class Finding:
    """What a read of a note found: its state, and Vitally's subject and text when changed."""

    state: str  # a NoteSync.InVitally value
    subject: str = ""
    note: str = ""

    @property
    def held(self) -> bool:
        return self.state in NOTE_HELD_STATES


def note_finding(*, sent_subject: str, sent_note: str, result: Result) -> Finding | None:
    """What `GET /resources/notes/:id` says about a note the portal sent, or None when the
    answer says nothing about it (a failure, or a note without its text)."""
    if result.http_status == 404:
        return Finding(InVitally.DELETED)
    body = result.body
    if not result.ok or not isinstance(body, dict) or not isinstance(body.get("note"), str):
        return None
    if body.get("archivedAt"):
        return Finding(InVitally.ARCHIVED)
    subject, text = str(body.get("subject") or ""), body["note"]
    if subject_words(subject) == subject_words(sent_subject) and note_words(text) == note_words(
        sent_note
    ):
        return Finding(InVitally.AGREES)
    return Finding(InVitally.CHANGED, subject, text)


# --- recording ------------------------------------------------------------------------------------
def finding_updates(row: NoteSync, finding: Finding, at) -> dict[str, Any]:
    """The row's fields after `finding`: another state or other text is a new finding (its
    version rises, so a decision shown for the old one is refused); the same one only moves
    `read_at`."""
    updates: dict[str, Any] = {"read_at": at}
    if (row.in_vitally, row.vitally_subject, row.vitally_note) != (
        finding.state,
        finding.subject,
        finding.note,
    ):
        updates.update(
            in_vitally=finding.state,
            vitally_subject=finding.subject,
            vitally_note=finding.note,
            read_version=F("read_version") + 1,
        )
        if row.in_vitally != finding.state:
            updates["in_vitally_since"] = at
    return updates


def note_decisions_recount(*, account_id: int) -> None:
    """The account's count of notes that differ in Vitally and wait for a decision (what the
    attention list reads with the record), after a finding or a decision."""
    count = NoteSync.objects.filter(
        account_id=account_id, left_at__isnull=True, in_vitally__in=NOTE_HELD_STATES
    ).count()
    if count:  # a note is sent only for a linked account: its sync row exists, or is made
        AccountSync.objects.bulk_create([AccountSync(account_id=account_id)], ignore_conflicts=True)
    AccountSync.objects.filter(pk=account_id).update(note_decisions=count)


def note_read_candidates(
    *, config: SyncConfig, due_only: bool = True, note_ids=None
) -> QuerySet[NoteSync]:
    """Notes a read can be compared with, least recently read first: acknowledged with their
    text, no write whose answer was lost, not held by a push, not left as Vitally has them,
    and nothing to send (or held for a decision: a read may find it as sent again). With
    `due_only`, those not read (or sent) for VITALLY_RECONCILE_SECONDS."""
    rows = (
        NoteSync.objects.exclude(vitally_note_id="")
        .exclude(sent_note="")
        .filter(_lease_free(), inflight_at__isnull=True, left_at__isnull=True)
        .exclude(in_vitally=InVitally.DELETED)  # gone: nothing to read
        .filter(
            Q(version__lte=F("acked_version"))
            | Q(in_vitally__in=[InVitally.CHANGED, InVitally.ARCHIVED])
        )
        .alias(last_checked=Coalesce("read_at", "last_pushed_at"))
    )
    if note_ids is not None:
        rows = rows.filter(pk__in=note_ids)
    if due_only:
        since = timezone.now() - timedelta(seconds=config.reconcile_seconds)
        rows = rows.filter(Q(last_checked__isnull=True) | Q(last_checked__lte=since))
    return rows.order_by(F("last_checked").asc(nulls_first=True), "pk")


def note_read_token(row: NoteSync) -> tuple:
    """What a push or a decision changes on the row: a read is compared only if this is the
    same after it as before."""
    return (
        row.version,
        row.acked_version,
        row.vitally_note_id,
        row.generation,
        row.sent_subject,
        row.sent_note,
        row.in_vitally,
        row.read_version,
        row.overwrite,
        row.left_at,
        row.lease_token,
        row.inflight_at,
        row.last_attempt_at,
    )


@transaction.atomic
def note_read_record(*, note_id: int, token: tuple, finding: Finding, read_at) -> bool:
    """Store what a read found. False when the row changed since the read began (a push, a
    decision): the read is thrown away. A note found as sent again is no longer held: a
    correction that waited goes now."""
    row = NoteSync.objects.select_for_update(of=("self",)).filter(pk=note_id).order_by("pk").first()
    if row is None or note_read_token(row) != token:
        return False
    NoteSync.objects.filter(pk=row.pk).update(**finding_updates(row, finding, read_at))
    if row.differs != finding.held:
        note_decisions_recount(account_id=row.account_id)
    if row.differs and not finding.held and row.due:
        from vitally_sync.notes import note_kick  # (notes imports this module)

        external_id = row.external_id
        transaction.on_commit(lambda: note_kick(external_id=external_id))
    return True


# --- the pass -----------------------------------------------------------------------------------
@dataclass
class NotesReadReport(ReadBackReport):
    TITLE: ClassVar[str] = "Notes read back"
    SKIPPED_WHY: ClassVar[str] = "to send, or a push holds them"
    DISCARDED_WHY: ClassVar[str] = "sent or decided during the read (not compared)"

    found: dict[str, int] = field(default_factory=dict)  # per state found

    def found_parts(self) -> list[str]:
        return [f"{n} {NOTE_FOUND_WORDS[state]}" for state, n in sorted(self.found.items()) if n]


def notes_read_back(
    *,
    config: SyncConfig | None = None,
    note_ids: list[int] | None = None,
    due_only: bool = True,
    budget: float = 45.0,
    max_wait: float = 5.0,
    wait_pauses: bool = False,
    client: VitallyClient | None = None,
    limiter: RateLimiter | None = None,
    pacer: RateLimiter | None = None,
    sleep=time.sleep,
) -> NotesReadReport:
    """Read sent notes back and record what each is in Vitally, least recently read first,
    within the reconcile's share of the rate limit and `budget` seconds. Stops at a 429's wait
    (unless `wait_pauses`), a refused key, or a saturated rate limit: the next run goes on."""
    from vitally_sync.notes import notes_enabled  # (notes imports this module)

    config = config or sync_config()
    report = NotesReadReport()
    if not config.enabled:
        report.enabled, report.off_reason = False, "the Vitally sync is not configured."
        return report
    if not notes_enabled():
        report.enabled, report.off_reason = False, "notes are off (VITALLY_NOTES_ENABLED)."
        return report
    client = client or client_get(config)
    limiter = limiter or limiter_get(config.redis_url)
    pacer = pacer or pacer_get(config.redis_url)
    started = time.monotonic()
    deadline = started + budget
    ids = note_read_candidates(config=config, due_only=due_only, note_ids=note_ids).values_list(
        "pk", flat=True
    )
    if math.isfinite(budget):  # no more than the pace allows within the budget
        ids = ids[: int(budget * config.reconcile_per_minute / 60) + 1]
    for note_id in list(ids):
        step = _read_one(
            note_id=note_id,
            config=config,
            report=report,
            client=client,
            limiter=limiter,
            pacer=pacer,
            deadline=deadline,
            max_wait=max_wait,
            wait_pauses=wait_pauses,
            due_only=due_only,
            sleep=sleep,
        )
        if step == "stop":
            break
    report.seconds = time.monotonic() - started
    return report


def _read_one(
    *,
    note_id,
    config,
    report,
    client,
    limiter,
    pacer,
    deadline,
    max_wait,
    wait_pauses,
    due_only,
    sleep,
) -> str:
    """Read one note back and record it: "ok", "skip", or "stop" (the pass ends)."""
    while True:
        stop = pass_may_go_on(
            config=config, limiter=limiter, deadline=deadline, wait_pauses=wait_pauses, sleep=sleep
        )
        if stop:
            report.stopped = stop
            return "stop"
        row = (
            note_read_candidates(config=config, due_only=due_only, note_ids=[note_id])
            .select_related("account")
            .first()
        )
        if row is None:
            report.skipped += 1
            return "skip"
        slot = pass_slot(
            config=config,
            limiter=limiter,
            pacer=pacer,
            pace_per_minute=config.reconcile_per_minute,
            pace_name="reconcile",
            deadline=deadline,
            max_wait=max_wait,
            sleep=sleep,
        )
        if slot == AGAIN:
            continue
        if slot:
            report.stopped = slot
            return "stop"
        token = note_read_token(row)
        result = client.request("GET", f"/resources/notes/{quote(row.vitally_note_id, safe='')}")
        answered = pass_answered(config=config, limiter=limiter, result=result)
        if answered == AGAIN:  # a 429: the gate waits it out or stops
            report.rate_limited += 1
            continue
        if answered:
            report.stopped = answered
            return "stop"
        finding = note_finding(
            sent_subject=row.sent_subject, sent_note=row.sent_note, result=result
        )
        if finding is None:
            message = result.message if not result.ok else "Vitally's answer has no note text."
            report.failures.append(f"{row.external_id} ({row.account.name}): {message}")
            logger.warning("Reading note %s back: %s", row.external_id, message)
            if result.kind is not Kind.TRANSIENT:  # read again next time, not each run
                NoteSync.objects.filter(pk=row.pk, read_version=row.read_version).update(
                    read_at=timezone.now()
                )
            return "skip"
        if not note_read_record(
            note_id=row.pk, token=token, finding=finding, read_at=timezone.now()
        ):
            report.discarded += 1
            return "skip"
        report.read += 1
        report.found[finding.state] = report.found.get(finding.state, 0) + 1
        return "ok"
