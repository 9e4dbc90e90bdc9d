"""My work: what needs the signed-in person, the portal's landing page (and the count in the top
bar). One list per thing to do, each read in a fixed number of queries, whatever the number of
accounts (tests assert the page's count at 1× and 10× a portfolio):

- as implementation engineer: my accounts until handoff, each with its readiness, blockers,
  the contributions' counts (open critical/high issues, items due for an update), planned
  completion, the technical advisor's acknowledgement, the Vitally sync state and the one next
  step;
- as technical advisor: accounts waiting for my acknowledgement, changes since my last review,
  and the contributions' lists (handed-off accounts with items due, differences in Vitally);
- as manager: accounts ready for sign-off with their blockers, planned completions overdue or
  near without an acknowledging technical advisor, and the contributions' lists (critical risks,
  sync trouble).

Lists follow the accounts that name the person (implementation engineer, technical advisor,
manager), not their role, so a person who holds more than one gets each list that applies. No
fact is computed here: readiness and blockers are the record's (the registry's rules), the
planned completion's warning is the attention strip's, the counts and lists are the
contributions'. The records come from `account_records_list`: one batch for every account that
needs its readiness."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from handoff import registry
from handoff.accounts.models import Account
from handoff.closeout.contributions import planned_completion_items
from handoff.closeout.review import changes_since_reviews_list
from handoff.record import AccountRecord, account_records_list, closeout_of

Phase = Account.Phase
# A list that shows each account's readiness loads the account's record: the first this many
# show, with a link to the rest (a manager of hundreds of accounts must not wait for all).
RECORD_ROWS_SHOWN = 25
# Any other list shows at most this many rows (it says how many there are in all).
ROWS_SHOWN = 50


@dataclass(frozen=True)
class NextStep:
    title: str
    url: str


@dataclass(frozen=True)
class AccountRow:
    """An account with its readiness, in the implementation engineer's and the manager's lists."""

    record: AccountRecord
    counts: list[tuple[registry.InboxCount, int, str]] = field(default_factory=list)
    next_step: NextStep | None = None

    @property
    def account(self) -> Account:
        return self.record.account


@dataclass(frozen=True)
class InboxList:
    key: str  # the HTML id of its section
    title: str
    template: str  # rendered with `rows` (and `columns`, `inbox_counts`)
    rows: list[Any]
    total: int | None = None  # when only the first rows show: how many there are
    more_url: str = ""  # where all of them are
    more_label: str = ""  # the link to more_url, shown whether or not the list is cut

    @property
    def size(self) -> int:
        return len(self.rows) if self.total is None else self.total


@dataclass(frozen=True)
class Inbox:
    lists: list[InboxList]  # only the lists with something in them

    @property
    def count(self) -> int:
        """What needs the person: one per row of every list."""
        return sum(i.size for i in self.lists)


def next_step_of(record: AccountRecord) -> NextStep:
    """The implementation engineer's one next step on an account they keep: the first blocker
    theirs to clear, in the rules' order (the technical advisor acknowledges on the account
    page); once none is left, request the handoff, or, requested, wait for the sign-off."""
    for result in record.readiness.before_request(record.account):
        return NextStep(result.blockers[0].title, result.blockers[0].url)
    status = reverse("accounts:detail", args=[record.account.pk]) + "#handoff-status"
    if record.account.phase == Phase.READY_FOR_HANDOFF:
        return NextStep("Waiting for the manager's sign-off", status)
    return NextStep("Request handoff", status)


def _engineer_row(record: AccountRecord) -> AccountRow:
    counts = [(c, c.count(record), c.url(record)) for c in registry.inbox_counts()]
    return AccountRow(record=record, counts=counts, next_step=next_step_of(record))


def _waiting_for_acknowledgement(user) -> list[Account]:
    """One query: ready for handoff, I am the technical advisor, and I have not acknowledged."""
    accounts = (
        Account.objects.filter(technical_advisor=user, phase=Phase.READY_FOR_HANDOFF)
        .select_related("closeout", "implementation_engineer", "closeout__handoff_requested_by")
        .order_by("closeout__handoff_requested_at", "name", "pk")
    )
    return [a for a in accounts if not _acknowledged(a)]


def _acknowledged(account: Account) -> bool:
    closeout = closeout_of(account)
    return closeout is not None and closeout.acknowledged_by_current_ta(account)


def _planned_completion_watch(user) -> list[tuple[Account, Any]]:
    """One query: the accounts I manage, not handed off, whose planned completion date has
    passed or is near, with the attention item the account page shows for it."""
    horizon = timezone.localdate() + timedelta(days=settings.HANDOFF_REMINDER_DAYS_BEFORE)
    accounts = (
        Account.objects.filter(manager=user, planned_completion_date__lte=horizon)
        .exclude(phase=Phase.HANDED_OFF)
        .select_related("closeout", "technical_advisor")
        .order_by("planned_completion_date", "name", "pk")
    )
    return [
        (account, items[0])
        for account in accounts
        if (items := planned_completion_items(account, acknowledged=_acknowledged(account)))
    ]


def inbox_get(user, *, records: bool = True) -> Inbox:
    """Every list of My work for `user`, empty ones left out. A fixed number of queries whatever
    the number of accounts (handoff.record.account_records_list's for the accounts whose
    readiness shows, one or two per other list). Which accounts a list holds never depends on
    their records: without `records` (the top bar's count) the rows are the accounts alone."""
    # Until sign-off the implementation engineer keeps the record: a requested handoff may still
    # have blockers theirs to clear.
    engineering = (
        Account.objects.filter(implementation_engineer=user)
        .exclude(phase=Phase.HANDED_OFF)
        .order_by("name", "pk")
    )
    signing = Account.objects.filter(manager=user, phase=Phase.READY_FOR_HANDOFF).order_by(
        "closeout__handoff_requested_at", "name", "pk"
    )
    # The first rows, each carrying how many there are (a window over the whole list).
    shown = {
        "mine": list(engineering.annotate(total=Window(Count("pk")))[:RECORD_ROWS_SHOWN]),
        "ready": list(signing.annotate(total=Window(Count("pk")))[:RECORD_ROWS_SHOWN]),
    }
    mine_total, ready_total = (rows[0].total if rows else 0 for rows in shown.values())
    if records:
        loaded = {
            r.account.pk: r
            for r in account_records_list(
                Account.objects.filter(pk__in=[a.pk for a in shown["mine"] + shown["ready"]])
            )
        }
        mine: list[Any] = [_engineer_row(loaded[a.pk]) for a in shown["mine"]]
        # Those the manager can sign off without overriding anything first.
        ready: list[Any] = sorted(
            (AccountRow(record=loaded[a.pk]) for a in shown["ready"]),
            key=lambda row: len(row.record.readiness.unmet),
        )
    else:
        mine, ready = shown["mine"], shown["ready"]
    advised = Account.objects.filter(technical_advisor=user)
    managed = Account.objects.filter(manager=user)
    # As handoff/permissions.py has it: the implementation engineer keeps the record until
    # sign-off, the technical advisor after it.
    kept = Account.objects.filter(
        Q(implementation_engineer=user) & ~Q(phase=Phase.HANDED_OFF)
        | Q(technical_advisor=user, phase=Phase.HANDED_OFF)
    )
    reviewable = list(advised.exclude(phase=Phase.HANDED_OFF).order_by("name", "pk"))
    by_id = {account.pk: account for account in reviewable}
    changes = [
        (by_id[c.review.account_id], c)
        for c in changes_since_reviews_list(reviewer_id=user.pk, account_ids=list(by_id))
        if c.groups
    ]
    lists = [
        InboxList(
            "my-accounts",
            "My accounts until handoff",
            "accounts/inbox/_engineer.html",
            mine,
            total=mine_total,
            more_url=_dashboard(ie="me", phase=Phase.IMPLEMENTATION),
        ),
        InboxList(
            "acknowledge",
            "Waiting for your acknowledgement",
            "accounts/inbox/_acknowledge.html",
            _waiting_for_acknowledgement(user),
        ),
        InboxList(
            "changes",
            "Changes since your last review",
            "accounts/inbox/_changes.html",
            changes,
        ),
        *_contributed(holder="keeper", accounts=kept),
        *_contributed(holder="technical_advisor", accounts=advised),
        InboxList(
            "sign-off",
            "Waiting for sign-off",
            "accounts/inbox/_sign_off.html",
            ready,
            total=ready_total,
            more_url=_dashboard(mine="on", phase=Phase.READY_FOR_HANDOFF),
        ),
        _first(
            "planned-completion",
            "Planned completion dates to watch",
            "accounts/inbox/_planned_completion.html",
            _planned_completion_watch(user),
        ),
        *_contributed(holder="manager", accounts=managed),
    ]
    return Inbox(lists=[i for i in lists if i.rows])


def _dashboard(**filters) -> str:
    return f"{reverse('accounts:dashboard')}?{urlencode(filters)}"


def _contributed(*, holder: str, accounts) -> list[InboxList]:
    return [
        _first(
            i.key,
            i.title,
            i.template,
            i.rows(accounts),
            more_url=i.more_url,
            more_label=i.more_label,
        )
        for i in registry.inbox_lists(holder=holder)
    ]


def _first(
    key: str, title: str, template: str, rows: list, *, more_url: str = "", more_label: str = ""
) -> InboxList:
    """The first ROWS_SHOWN rows of a list, and how many it has."""
    return InboxList(
        key,
        title,
        template,
        rows[:ROWS_SHOWN],
        total=len(rows),
        more_url=more_url,
        more_label=more_label,
    )
