"""Notes that differ in Vitally (note_reconcile.py finds them): what people see in the "Notes
sent to Vitally" table of the account's Vitally page, and what the account's maintainer chooses
for a note someone changed, archived or deleted in Vitally. Until then the portal's corrections
of that note are not sent.

- Send the portal's text: the note is due again and its next push sends the portal's latest
  text over Vitally's (a PUT, without looking first); a note archived or deleted in Vitally is
  created again as a new note (a new externalId: an archived note keeps the old one).
- Leave Vitally's note: the portal no longer sends this note; its corrections stay in the
  portal. "Send the portal's text" stays offered, to change one's mind.

Both are version-checked (what the person saw), refused while a push holds the note, and
recorded in the account's History. The permission is the traits' Keep (Action.VITALLY_PUSH).
"""

import re
from dataclasses import dataclass
from html import unescape

import nh3
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from handoff.audit.services import audit_record
from vitally_sync.models import NoteSync
from vitally_sync.note_reconcile import note_decisions_recount

InVitally = NoteSync.InVitally


# --- what people see ---------------------------------------------------------------------------
def shown_html(html: str) -> SafeString:
    """A note's HTML as the portal shows it: the journal's own allow-list (logs/markdown.py).
    Vitally's text comes from elsewhere, so whatever it holds is cleaned the same way."""
    from logs.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, URL_SCHEMES

    clean = nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style"},
    )
    clean = _REL_WITHOUT_HREF.sub(r"<a\1>", clean)  # a link whose address was dropped
    return mark_safe(clean)  # noqa: S308  # nosec B308, B703  # sanitised by nh3 just above


_REL_WITHOUT_HREF = re.compile(r'<a((?:(?!\shref=)[^>])*?) rel="noopener noreferrer nofollow">')


def portal_subject(note: NoteSync) -> str:
    from vitally_sync.notes import SIGNED_OFF_SUBJECT

    entry = note.journal_entry
    return entry.title if entry is not None else SIGNED_OFF_SUBJECT


def portal_note_html(note: NoteSync) -> str:
    """The text the portal would send now (its latest correction)."""
    from vitally_sync.notes import journal_note_html, sign_off_note_html

    if note.journal_entry is not None:
        return journal_note_html(note.journal_entry)
    return sign_off_note_html(note.sign_off)


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "j M Y, H:i") if moment else ""


@dataclass(frozen=True)
class NoteRow:
    """A row of the "Notes sent to Vitally" table."""

    note: NoteSync
    subject: str  # as sent (as the portal has it, before the first send)
    sent_html: SafeString | str  # what was sent, cleaned; "" before the first send
    state: str  # where it stands in Vitally, in plain words
    detail: str  # one or two sentences: since when, what happens next
    # A note that differs: the portal's text (what "Send the portal's text" sends) and
    # Vitally's, side by side.
    portal_html: SafeString | str = ""
    corrected: bool = False  # the portal's text was corrected since it was sent
    vitally_subject: str = ""
    vitally_html: SafeString | str = ""

    @property
    def anchor(self) -> str:
        return f"vitally-note-{self.note.pk}"


def note_row(note: NoteSync) -> NoteRow:
    """No query: the note's source comes with it (selectors.vitally_notes_list)."""
    subject = note.sent_subject or portal_subject(note)
    sent = shown_html(note.sent_note) if note.sent_note else ""
    if note.left_at is not None:
        state = "Left as it is in Vitally"
        detail = (
            f"{note.left_by_name or 'Someone'} chose to leave Vitally's note on "
            f"{_when(note.left_at)}: the portal no longer sends this note, and its corrections "
            "stay in the portal."
        )
    elif note.differs:
        state = note.get_in_vitally_display()
        what = {
            InVitally.CHANGED: "Someone changed this note in Vitally after the portal sent it",
            InVitally.ARCHIVED: "Someone archived this note in Vitally",
            InVitally.DELETED: "This note was deleted in Vitally",
        }[InVitally(note.in_vitally)]
        detail = (
            f"{what} (found {_when(note.in_vitally_since)}). The portal sends nothing more "
            "to it until someone chooses: send the portal's text"
            + (" (a new note)" if note.in_vitally != InVitally.CHANGED else "")
            + ", or leave Vitally's note."
        )
    elif note.in_vitally == InVitally.AGREES and note.read_at:
        state, detail = "As sent", f"Read back from Vitally {_when(note.read_at)}."
    else:
        state, detail = "", ""
    if not note.differs:
        return NoteRow(note=note, subject=subject, sent_html=sent, state=state, detail=detail)
    return NoteRow(
        note=note,
        subject=subject,
        sent_html=sent,
        state=state,
        detail=detail,
        portal_html=shown_html(portal_note_html(note)),
        corrected=note.due,
        vitally_subject=note.vitally_subject,
        vitally_html=shown_html(note.vitally_note) if note.vitally_note else "",
    )


# --- choosing ------------------------------------------------------------------------------------
class NoteDecisionRefused(Exception):
    """Nothing was changed; the message says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


NOT_WAITING = (
    "This note no longer waits for a decision: someone chose already, or Vitally has it as "
    "sent again. Nothing was changed."
)
LOOK_AGAIN = (
    "What Vitally holds of this note changed since the page was shown: look at it again. "
    "Nothing was changed."
)
PUSH_UNDER_WAY = (
    "A push to Vitally is under way for this note: try again in a few seconds. Nothing was changed."
)


def _locked(*, account: Account, note_id: int, expected_version: int | None) -> NoteSync:
    """The note's row, locked (only it: `of=("self",)`, ordered by pk), as the person saw it."""
    note = (
        NoteSync.objects.select_for_update(of=("self",))
        .select_related("journal_entry")
        .annotate(db_now=Now())
        .filter(pk=note_id, account_id=account.pk)
        .order_by("pk")
        .first()
    )
    if note is None:
        raise NoteDecisionRefused(NOT_WAITING)
    if expected_version is None or note.read_version != expected_version:
        raise NoteDecisionRefused(LOOK_AGAIN)
    if note.lease_until is not None and note.lease_until > note.db_now:  # type: ignore[attr-defined]
        raise NoteDecisionRefused(PUSH_UNDER_WAY)
    return note


def _overwritten(note: NoteSync) -> list[dict]:
    """What Vitally held of a changed note, kept in History before the portal's text goes over
    it (Vitally keeps no copy)."""
    if note.in_vitally != InVitally.CHANGED:
        return []
    text = " ".join(unescape(strip_tags(note.vitally_note)).split())
    after = "the portal's, sent over it"
    changes = [
        {"field": "vitally_note", "label": "Text in Vitally", "before": text, "after": after}
    ]
    if note.vitally_subject and note.vitally_subject != portal_subject(note):
        subject = {"field": "vitally_subject", "label": "Subject in Vitally"}
        changes.insert(0, {**subject, "before": note.vitally_subject, "after": after})
    return changes


@transaction.atomic
def note_send_choose(
    *, account: Account, note_id: int, expected_version: int | None, actor
) -> NoteSync:
    """Send the portal's text: over Vitally's (changed there), or as a new note (archived or
    deleted there). The note is due again, so the sweeper sends it (the kick is for speed)."""
    from vitally_sync.notes import note_kick

    note = _locked(account=account, note_id=note_id, expected_version=expected_version)
    if not note.held:
        raise NoteDecisionRefused(NOT_WAITING)
    again = note.in_vitally in (InVitally.ARCHIVED, InVitally.DELETED)
    updates = {
        "in_vitally": InVitally.UNKNOWN,
        "vitally_subject": "",
        "vitally_note": "",
        "in_vitally_since": None,
        "left_at": None,
        "left_by_name": "",
        "read_version": F("read_version") + 1,
        "version": F("version") + 1,
        "status": NoteSync.Status.PENDING,
        "attempts": 0,
        "next_attempt_at": None,
        "last_error": "",
    }
    if again:  # a new note: the archived one keeps its externalId
        updates.update(
            generation=F("generation") + 1,
            vitally_note_id="",
            inflight_at=None,
            sent_subject="",
            sent_note="",
        )
    else:
        updates["overwrite"] = True
    NoteSync.objects.filter(pk=note.pk).update(**updates)
    note_decisions_recount(account_id=account.pk)
    found = note.found_words
    audit_record(
        actor=actor,
        account=account,
        obj=note,
        action=AuditEvent.Kind.ACTION,
        changes=_overwritten(note),
        message=(
            f"Chose to send the portal's text of the note “{portal_subject(note)}” to Vitally "
            + (
                f"as a new note ({found}, found {_when(note.in_vitally_since)})."
                if again
                else f"over Vitally's ({found}, found {_when(note.in_vitally_since)})."
            )
        ),
    )
    external_id = note.external_id
    transaction.on_commit(lambda: note_kick(external_id=external_id))
    return note


@transaction.atomic
def note_leave_choose(
    *, account: Account, note_id: int, expected_version: int | None, actor
) -> NoteSync:
    """Leave Vitally's note: the portal no longer sends this note (until someone chooses to
    send the portal's text)."""
    note = _locked(account=account, note_id=note_id, expected_version=expected_version)
    if not note.differs:
        raise NoteDecisionRefused(NOT_WAITING)
    NoteSync.objects.filter(pk=note.pk).update(
        left_at=Now(),
        left_by_name=(actor.get_full_name() or actor.get_username())[:150],
        read_version=F("read_version") + 1,
        next_attempt_at=None,
    )
    note_decisions_recount(account_id=account.pk)
    audit_record(
        actor=actor,
        account=account,
        obj=note,
        action=AuditEvent.Kind.ACTION,
        message=(
            f"Chose to leave the note “{portal_subject(note)}” as it is in Vitally "
            f"({note.found_words}, found {_when(note.in_vitally_since)}): "
            "the portal no longer sends it."
        ),
    )
    return note
