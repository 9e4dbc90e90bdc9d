"""Reads: the portal's values for an account (from its record), the sync state people see
(badge, panel), and the sync of every account (the Vitally sync page)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.timesince import timesince

from handoff import registry
from handoff.accounts.models import Account
from handoff.record import account_record_get
from vitally_sync.conf import SyncConfig
from vitally_sync.metrics import account_state, unacknowledged, unacknowledged_change_at
from vitally_sync.models import (
    NOTE_HELD_STATES,
    AccountSync,
    NoteSync,
    SyncAttempt,
    TraitDifference,
)
from vitally_sync.payloads import PortalValues


def portal_values_of(record) -> PortalValues:
    """What the portal shows for the account, from its record (handoff/record.py): each
    contribution's `vitally_values`. Apps that are not installed contribute nothing: their
    traits are left out of the payload rather than sent as null."""
    values: dict[str, Any] = {}
    for contribution in registry.contributions():
        if contribution.vitally_values is not None:
            values.update(contribution.vitally_values(record))
    return values


def portal_values_get(*, account_id: int) -> PortalValues:
    """As `portal_values_of`, loading the account's record. Constant query count."""
    return portal_values_of(account_record_get(account_id))


def sync_known_traits(sync: AccountSync, target: str) -> dict:
    """What Vitally is known to hold for the account: the acknowledged traits, less those of a
    request whose answer was never recorded (it may or may not have been applied), and nothing
    when the account now points at another Vitally account. A push sends what differs."""
    if sync.pushed_vitally_id != target or not sync.acked_traits:
        return {}
    unknown = set(sync.inflight_traits or ())
    return {key: value for key, value in sync.acked_traits.items() if key not in unknown}


def account_sync_of(account: Account) -> AccountSync | None:
    """The account's sync row if it has one (loaded by select_related("vitally_sync"))."""
    try:
        return account.vitally_sync
    except ObjectDoesNotExist:
        return None


# The badge's words for each state: the pages, the filters and the counts all say these.
STATE_LABELS = {
    "failed": "Failed",
    "attention": "Needs attention",
    "retrying": "Retrying",
    "differs": "Differs in Vitally",
    "pending": "Pending",
    "synced": "Synced",
    "not_linked": "Not linked",
    "not_configured": "Not configured",
}


@dataclass(frozen=True)
class Badge:
    state: str  # one of STATE_LABELS
    label: str
    css: str
    title: str  # the tooltip: what happened (the last error when there is one)
    explanation: str = ""  # the panel's "State": what happens next


_NEXT = {
    "synced": "Vitally holds the account's current values.",
    "pending": "A change is waiting to be pushed; a worker sends it within seconds.",
    "retrying": (
        "The last attempt did not go through; it is retried automatically, and after 10 "
        "failures in a row the account shows Needs attention. Push now tries again at once."
    ),
    "failed": (
        "Vitally refuses the portal's API key, so nothing is sent with it. The portal asks "
        "Vitally about once a minute whether the key works again and then pushes every account "
        "that waited; nothing is lost meanwhile. If it lasts, tell the portal's administrators "
        "(they restore or replace VITALLY_API_KEY, which retries every account at once)."
    ),
    "attention": (
        "A person needs to look: fix the cause (see Last error), then edit the account or use "
        "Push now. It is retried by itself once an hour."
    ),
}


def failure_holds(*, account: Account, sync: AccountSync, config: SyncConfig) -> bool:
    """The sync is stuck on something people must know about (the same rules as the
    sweeper's services.sync_due_q): a key Vitally refuses, or an account that needs attention
    until it is edited (for a 4xx), pushed by hand, or its hourly retry succeeds."""
    if sync.status == AccountSync.Status.FAILED:
        return sync.failed_key == config.key_fingerprint
    if sync.status != AccountSync.Status.ATTENTION or sync.push_requested:
        return False
    return not (sync.failed_version and account.change_version > sync.failed_version)


def sync_badge(*, account: Account, sync: AccountSync | None, config: SyncConfig) -> Badge:
    badge = _badge(account=account, sync=sync, config=config)
    if badge.explanation:  # "differs" says what differs
        return badge
    return Badge(badge.state, badge.label, badge.css, badge.title, _NEXT.get(badge.state, ""))


def _badge(*, account: Account, sync: AccountSync | None, config: SyncConfig) -> Badge:
    if not config.enabled:
        return Badge(
            "not_configured",
            STATE_LABELS["not_configured"],
            "muted",
            config.error
            or "The Vitally sync is off: VITALLY_BASE_URL and VITALLY_API_KEY are not set.",
        )
    if not account.vitally_account_id:
        return Badge(
            "not_linked",
            STATE_LABELS["not_linked"],
            "muted",
            "No Vitally account id: nothing is pushed.",
        )
    if sync is not None and failure_holds(account=account, sync=sync, config=config):
        if sync.status == AccountSync.Status.FAILED:
            return Badge(
                "failed",
                STATE_LABELS["failed"],
                "bad",
                sync.last_error or "Vitally refuses the key.",
            )
        return Badge(
            "attention",
            STATE_LABELS["attention"],
            "bad",
            sync.last_error or "The last push failed.",
        )
    if (
        sync is not None
        and account.change_version <= sync.acked_version
        and not sync.push_requested
        and sync.config_fingerprint == config.fingerprint
    ):
        if sync.differences or sync.note_decisions:
            return _differs_badge(fields=sync.differences, notes=sync.note_decisions)
        return Badge(
            "synced", STATE_LABELS["synced"], "ok", "Vitally holds the account's current values."
        )
    if sync is not None and sync.status == AccountSync.Status.RETRYING:
        return Badge(
            "retrying",
            STATE_LABELS["retrying"],
            "warn",
            sync.last_error or "The last push did not go through.",
        )
    return Badge(
        "pending", STATE_LABELS["pending"], "info", "A change is waiting to be pushed to Vitally."
    )


# Who decides what differs in Vitally, in the handbook's words.
_DECIDER = (
    "the person who keeps this record (the implementation engineer, after handoff the "
    "technical advisor) or a manager"
)


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def differs_count(*, fields: int, notes: int) -> str:
    """What differs in Vitally, counted: "2 fields", "1 note", "2 fields and 1 note"."""
    parts = [_counted(n, noun) for n, noun in ((fields, "field"), (notes, "note")) if n]
    return " and ".join(parts)


def differs_sentence(*, fields: int, notes: int) -> str:
    """ "2 fields and 1 note differ in Vitally", "1 field differs in Vitally"."""
    verb = "differs" if fields + notes == 1 else "differ"
    return f"{differs_count(fields=fields, notes=notes)} {verb} in Vitally"


def _differs_badge(*, fields: int, notes: int) -> Badge:
    """The badge while fields (`AccountSync.differences`) or notes (`note_decisions`) differ in
    Vitally: its title says how many of each and what may be done, its explanation who decides
    and where."""
    todo = []
    if fields:
        todo.append(
            "keep the portal's value or take Vitally's (the Vitally section of the account page)"
        )
    if notes:
        todo.append(
            "send the portal's text or leave Vitally's note (the notes on the account's "
            "Vitally page)"
        )
    if fields and notes:
        todo = [f"for the fields, {todo[0]}; for the notes, {todo[1]}"]
    title = f"{differs_sentence(fields=fields, notes=notes)}: {todo[0]}."
    said = []
    if fields:
        said.append(
            "The fields below differ in Vitally (each says why); pushes leave them as they "
            f"are until {_DECIDER} decides."
        )
    if notes:
        which = (
            "A note the portal sent was" if notes == 1 else f"{notes} notes the portal sent were"
        )
        said.append(
            f"{which} changed, archived or deleted in Vitally: the portal's corrections of "
            f"{'it' if notes == 1 else 'them'} wait until {_DECIDER} sends the portal's text "
            "or leaves Vitally's note (Notes sent to Vitally, on the account's Vitally page)."
        )
    held = "other values" if fields else "values for every field"
    explanation = " ".join([f"Vitally holds the portal's {held}.", *said])
    return Badge("differs", STATE_LABELS["differs"], "warn", title, explanation)


def sync_attempt_list(*, account_id: int, limit: int = 5) -> list[SyncAttempt]:
    return list(SyncAttempt.objects.filter(account_id=account_id).order_by("-at", "-id")[:limit])


# --- The Vitally sync of every account (vitally_sync:health) -------------------------------------
# A change still waiting for Vitally after this long is trouble: the README's alert rule
# (VitallyChangeNotAcknowledged) fires at the same age.
STALE_AFTER = timedelta(minutes=15)
# What the page sorts and counts by: the badge's state, except that a change pending for longer
# than STALE_AFTER is "stale". Trouble first, in this order, then the rest.
HEALTH_STATES = (
    "failed", "attention", "retrying", "differs", "stale", "pending", "synced", "not_linked",
    "not_configured",
)  # fmt: skip
TROUBLE = frozenset({"failed", "attention", "retrying", "differs", "stale"})
HEALTH_LABELS = {**STATE_LABELS, "stale": f"Pending over {STALE_AFTER.seconds // 60} minutes"}
# The states of a push that did not go through: the last error says why.
FAILING = frozenset({"failed", "attention", "retrying"})
# Where "Push now" can help: a failure that holds or backs off, or a change left waiting. Not a
# refused key (no push is sent with it) nor a difference (pushes leave those fields alone).
PUSH_HELPS = frozenset({"attention", "retrying", "stale"})


@dataclass(frozen=True)
class HealthRow:
    account: Account  # its sync row joined (account_sync_of)
    state: str  # one of HEALTH_STATES
    badge: Badge
    waiting_since: datetime | None  # the oldest change Vitally has not acknowledged
    differs_since: datetime | None  # the first open difference (field or note) found in Vitally
    link_differences: int  # of the open differences, those Vitally held when linked
    last_attempt: SyncAttempt | None
    now: datetime

    @property
    def sync(self) -> AccountSync | None:
        return account_sync_of(self.account)

    @property
    def trouble(self) -> bool:
        return self.state in TROUBLE

    @property
    def failing(self) -> bool:
        return self.badge.state in FAILING

    @property
    def since(self) -> datetime | None:
        """Since when the state holds, as far as the portal knows: Synced since Vitally
        acknowledged the last push, Differs since the first difference was found, and waiting
        or failing since the oldest change Vitally lacks was made (a failure without such a
        change, e.g. a full push asked for: since its error)."""
        sync = self.sync
        if self.badge.state == "synced":
            return sync.last_pushed_at if sync else None
        if self.badge.state == "differs":
            return self.differs_since
        if self.badge.state in FAILING | {"pending"}:
            return self.waiting_since or (sync.last_error_at if sync else None)
        return None

    @property
    def waiting_for(self) -> str:
        """How long the oldest change has waited ("32 minutes", "2 days"), once it is longer
        than STALE_AFTER; shorter waits are the normal few seconds of a push."""
        if self.waiting_since is None or self.now - self.waiting_since < STALE_AFTER:
            return ""
        return timesince(self.waiting_since, self.now, depth=1)

    @property
    def push_helps(self) -> bool:
        return self.state in PUSH_HELPS

    @property
    def differences(self) -> str:
        """The Differences column: "2 fields, 1 note" ("" when nothing differs)."""
        sync = self.sync
        if sync is None:
            return ""
        return differs_count(fields=sync.differences, notes=sync.note_decisions).replace(
            " and ", ", "
        )

    @property
    def differences_anchor(self) -> str:
        """Where on the account's Vitally page they are: the fields, or the notes when only
        notes differ."""
        sync = self.sync
        return "vitally-differences" if sync is None or sync.differences else "vitally-notes"


@dataclass(frozen=True)
class SyncHealth:
    config: SyncConfig
    counts: dict[str, int]  # per HEALTH_STATES, over the accounts the person filters select
    rows: list[HealthRow]  # the first of those in the chosen state, trouble first
    total: int  # how many accounts the state filter selects

    @property
    def trouble(self) -> int:
        return sum(self.counts[state] for state in TROUBLE)


def _waiting_since(config: SyncConfig) -> Any:
    """When the oldest change Vitally has not acknowledged was made (the metric's age), for a
    linked account that has one; nothing waits for a sync that is off."""
    if not config.enabled:
        return Value(None, output_field=DateTimeField())
    return Case(
        When(unacknowledged(), then=unacknowledged_change_at()),
        default=None,
        output_field=DateTimeField(),
    )


def _health_state(now: datetime) -> Case:
    """The page's state: the badge's (`sync_state`), a pending change older than STALE_AFTER
    being "stale"."""
    return Case(
        When(Q(sync_state="pending", waiting_since__lt=now - STALE_AFTER), then=Value("stale")),
        default=F("sync_state"),
        output_field=CharField(),
    )


def _states_in(state: str) -> list[str]:
    if state == "trouble":
        return [s for s in HEALTH_STATES if s in TROUBLE]
    return [state] if state in HEALTH_STATES else list(HEALTH_STATES)


def sync_health_get(
    *, state: str = "", manager_id: int | None = None, limit: int, config: SyncConfig
) -> SyncHealth:
    """Every account's sync, trouble first (HEALTH_STATES' order, the longest waiting first,
    then by name), the first `limit` of them, with the count per state. `state` is one of
    HEALTH_STATES or "trouble" (every troubled one); "" is all. Three queries whatever the
    number of accounts: the counts, the rows, their latest attempts."""
    now = timezone.now()
    # Both computed by the database: the badge's rules as SQL (metrics.account_state, which a
    # test holds equal to sync_badge) and the metric's age.
    accounts = Account.objects.annotate(
        sync_state=account_state(config), waiting_since=_waiting_since(config)
    ).annotate(health_state=_health_state(now))
    if manager_id is not None:
        accounts = accounts.filter(manager_id=manager_id)
    counts = accounts.aggregate(**{s: Count("pk", filter=Q(health_state=s)) for s in HEALTH_STATES})
    states = _states_in(state)
    rank = Case(
        *[When(health_state=s, then=Value(i)) for i, s in enumerate(HEALTH_STATES)],
        output_field=IntegerField(),
    )
    latest = SyncAttempt.objects.filter(account=OuterRef("pk")).order_by("-at", "-id")
    first_field = TraitDifference.objects.filter(account=OuterRef("pk")).order_by("first_seen_at")
    # A note that waits for a decision (as note_decisions_recount counts them) differs too.
    first_note = NoteSync.objects.filter(
        account=OuterRef("pk"), left_at__isnull=True, in_vitally__in=NOTE_HELD_STATES
    ).order_by("in_vitally_since")
    first_note_at = Subquery(first_note.values("in_vitally_since")[:1])
    # Of the open differences, those Vitally held when the account was linked (the rest were
    # changed there after a push): the page words them apart.
    from_link = (
        TraitDifference.objects.filter(account=OuterRef("pk"), origin=TraitDifference.Origin.LINK)
        .order_by()
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    found = list(
        accounts.filter(health_state__in=states)
        .select_related("vitally_sync")
        .annotate(
            last_attempt_id=Subquery(latest.values("id")[:1]),
            # The earlier of the two that exist. PostgreSQL's LEAST passes over a NULL but
            # SQLite's (`make run`) answers NULL: each side falls back on the other.
            differs_since=Least(
                Coalesce(Subquery(first_field.values("first_seen_at")[:1]), first_note_at),
                Coalesce(first_note_at, Subquery(first_field.values("first_seen_at")[:1])),
            ),
            link_differences=Coalesce(Subquery(from_link[:1]), 0),
        )
        .order_by(rank, F("waiting_since").asc(nulls_last=True), "name", "pk")[:limit]
    )
    attempts = SyncAttempt.objects.in_bulk([a.last_attempt_id for a in found if a.last_attempt_id])
    rows = [
        HealthRow(
            account=account,
            state=account.health_state,
            badge=sync_badge(account=account, sync=account_sync_of(account), config=config),
            waiting_since=account.waiting_since,
            differs_since=account.differs_since,
            link_differences=account.link_differences,
            last_attempt=attempts.get(account.last_attempt_id),
            now=now,
        )
        for account in found
    ]
    return SyncHealth(
        config=config,
        counts={s: counts[s] for s in HEALTH_STATES},
        rows=rows,
        total=sum(counts[s] for s in states),
    )


# --- Notes (issue 16, item 4) --------------------------------------------------------------------
NOTES_SHOWN = 50


def vitally_notes_list(*, account_id: int) -> list:
    """The account's notes that go to Vitally, newest first, with where each stands (one query:
    the note's title comes with it)."""
    from vitally_sync.models import NoteSync

    return list(
        NoteSync.objects.filter(account_id=account_id)
        .select_related("journal_entry", "sign_off")
        .order_by("-created_at", "-pk")[:NOTES_SHOWN]
    )


def vitally_notes_trouble_list(*, limit: int = 20) -> list:
    """Notes Vitally has not taken that wait on a person or the key (the sync page), with
    their account: one query."""
    from vitally_sync.models import NoteSync

    return list(
        NoteSync.objects.filter(status__in=[NoteSync.Status.ATTENTION, NoteSync.Status.FAILED])
        .filter(version__gt=F("acked_version"))
        .select_related("account", "journal_entry")
        .order_by("last_error_at", "pk")[:limit]
    )


@dataclass(frozen=True)
class VitallyLink:
    url: str
    name: str  # the account's name in Vitally (it may differ from the portal's)


def vitally_account_link(account) -> VitallyLink | None:
    """Where people open this account in Vitally's app (VITALLY_ACCOUNT_URL), or None when not
    set or the account is not linked. The portal may hold the externalId: the mirror gives the
    Vitally id and name (one query); an account not mirrored (yet) is linked by what the portal
    holds, under the portal's name."""
    from urllib.parse import quote

    from django.conf import settings
    from django.db.models import Q

    from vitally_sync.models import VitallyAccount

    template, key = settings.VITALLY_ACCOUNT_URL, account.vitally_account_id
    if not template or not key:
        return None
    mirrored = (
        VitallyAccount.objects.filter(Q(vitally_id=key) | Q(external_id=key))
        .values_list("vitally_id", "name")
        .first()
    )
    vitally_id, name = mirrored or (key, account.name)
    return VitallyLink(url=template.replace("{id}", quote(vitally_id, safe="")), name=name)
