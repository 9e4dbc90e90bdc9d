"""The one registry: what each part of the portal adds to an account's record.

Each app registers one `Contribution` from its `AppConfig.ready()`. The record
(`handoff/record.py`) loads each contribution's slice once; the account page,
readiness, the attention strip, the sign-off snapshot, its Markdown and the Vitally payload read
that record and nothing else, so every page costs the same queries whatever the record's size.

The order is explicit (`ORDER`): the handbook's order of the record. The core never imports
deployments, logs or vitally_sync: it names them here, and an app that is not installed simply
contributes nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

if TYPE_CHECKING:
    from handoff.people.models import User
    from handoff.record import AccountRecord

# The account and its people, the deployment, the four logs, the closeout checklist, Vitally.
ORDER = ("account", "deployments", "logs", "closeout", "vitally_sync")


@dataclass(frozen=True)
class Blocker:
    """Why the account is not ready for handoff: what is missing, what to do, where."""

    title: str  # names what is missing, e.g. "Checklist item open: Indexing"
    detail: str  # one sentence: what to do
    url: str  # where to fix it (a path inside the portal)
    # The permission (an Action's value) that `url` asks for, when it is an edit page; a viewer
    # without it is linked to `view_url` (where the same thing reads), or to nothing
    # (handoff.permissions.link_for).
    action: str = ""
    view_url: str = ""


@dataclass(frozen=True)
class AttentionItem:
    """A line of the account page's attention list."""

    class Level:
        CRITICAL = "critical"
        WARNING = "warning"
        INFO = "info"

    level: str  # AttentionItem.Level.*
    title: str
    detail: str = ""
    url: str = ""
    action: str = ""  # as Blocker's: the permission `url` asks for, and where else to look
    view_url: str = ""

    @property
    def badge_class(self) -> str:
        return {"critical": "bad", "warning": "warn"}.get(self.level, "muted")

    @property
    def level_label(self) -> str:
        return {"critical": "Critical", "warning": "Warning"}.get(self.level, "Note")


@dataclass(frozen=True)
class Section:
    """A section of the account page. `key` is also its HTML id. A section shows a summary of
    its part of the record; a long list has a page of its own that the section links to."""

    key: str
    title: str
    template: str  # rendered with `ctx`, what `context(record, user)` returns
    context: Callable[["AccountRecord", "User"], dict[str, Any]]
    # A short section takes half the page's width on a wide screen, beside another one.
    half: bool = False


@dataclass(frozen=True)
class Rule:
    """A readiness rule: `check(record)` lists its blockers, none when it is met.
    `summary(record, blockers)` says in one line what is missing when it is not ("3 of 11
    checklist items open"); without one, or when it returns "", a lone blocker's title says
    it, or else how many blockers the rule has."""

    key: str
    title: str
    check: Callable[["AccountRecord"], list[Blocker]]
    summary: Callable[["AccountRecord", tuple[Blocker, ...]], str] | None = None
    # Who clears it: the record's keeper, or the technical advisor (their acknowledgement, which
    # comes after the handoff request: neither the next step nor the request's question).
    cleared_by: str = "keeper"
    # The key of a rule this one waits for: while that one is unmet, its line says this one's
    # cause too, so this one is counted but not listed on its own (one cause, one line).
    waits_for: str = ""


def counted(plural: str) -> Callable[["AccountRecord", tuple[Blocker, ...]], str]:
    """A rule summary that counts its blockers ("2 open critical issues"); a lone blocker's
    own title says more, so it is left to that."""

    def summary(record: "AccountRecord", blockers: tuple[Blocker, ...]) -> str:
        return "" if len(blockers) == 1 else f"{len(blockers)} {plural}"

    return summary


@dataclass(frozen=True)
class Part:
    """A part of the signed snapshot: `collect(record)` returns JSON-safe data (dates as ISO
    strings, choices as labels, people as names); `markdown(data)` draws it, without its
    heading, as a pure function of that data (a signed snapshot is drawn the same way)."""

    key: str
    title: str
    collect: Callable[["AccountRecord"], Any]
    markdown: Callable[[Any], str]


@dataclass(frozen=True)
class Column:
    """An extra column of the accounts dashboard. `prepare(queryset)` adds what its cell needs
    to the page's one row query; `on_account_page` shows it beside the phase too."""

    key: str
    title: str
    template: str  # rendered with `account` (a row of the prepared queryset)
    prepare: Callable[[QuerySet], QuerySet] | None = None
    on_account_page: bool = False


@dataclass(frozen=True)
class Trait:
    """A field the account's dashboard in Vitally shows, which the contribution's
    `vitally_values(record)` gives under `name`. `format` says how the value is written:
    "text", "lines" (one per line), "labels" (comma-separated), "date" or "number"; `vitally_type`
    is the custom field's type in Vitally (vitally-api.md §4)."""

    name: str
    label: str  # the handbook's words, shown in the Vitally panel and the field check
    default_key: str  # the trait key unless VITALLY_TRAIT_MAP renames it
    format: str
    vitally_type: str


@dataclass(frozen=True)
class InboxCount:
    """A number the implementation engineer's list of My work (handoff/accounts/inbox.py) shows
    per account, counted over the account's record (no query): open critical/high issues."""

    key: str
    title: str
    count: Callable[["AccountRecord"], int]
    url: Callable[["AccountRecord"], str]  # where the counted items are listed


@dataclass(frozen=True)
class InboxList:
    """A list of My work. `rows(accounts)` reads what needs the person among `accounts` (a
    queryset of the accounts whose `holder` field names them) in a fixed number of queries,
    whatever the number of accounts: one row per thing to do, shown with `template`."""

    key: str
    title: str
    # Whose list: "keeper" (the accounts the person keeps: as implementation engineer before
    # handoff, as technical advisor after), "technical_advisor" or "manager".
    holder: str
    template: str  # rendered with `rows`
    rows: Callable[[QuerySet], list]
    more_url: Any = ""  # a page with all of them (a lazy reverse), when My work shows the first
    # With `more_url`: the link's words, and My work shows it under the list even when the list
    # is whole (a page that holds more than the person's own, e.g. "All sync trouble").
    more_label: str = ""


@dataclass(frozen=True)
class Contribution:
    key: str  # one of ORDER
    # The app's slice of the record: `load(account, for_snapshot=...)`, a constant number of
    # queries whatever the record's size. The people its rows name are attached afterwards
    # from one query (return them in `rows(slice)`).
    load: Callable[..., Any] | None = None
    # The same slice of many accounts at once, as the pages load it: `load_many(accounts)` ->
    # {account id: slice}, the same number of queries as `load` whatever the number of accounts
    # (handoff.record.account_records_list, read by My work).
    load_many: Callable[[list], dict[int, Any]] | None = None
    rows: Callable[[Any], list] | None = None
    sections: tuple[Section, ...] = ()
    rules: tuple[Rule, ...] = ()
    attention: tuple[Callable[["AccountRecord"], list[AttentionItem]], ...] = ()
    snapshot: tuple[Part, ...] = ()
    # The fields of this slice that Vitally shows, and their values now: {trait name: value}.
    vitally_traits: tuple[Trait, ...] = ()
    vitally_values: Callable[["AccountRecord"], dict[str, Any]] | None = None
    columns: tuple[Column, ...] = ()
    # My work (handoff/accounts/inbox.py): numbers per account over its record, and lists.
    inbox_counts: tuple[InboxCount, ...] = ()
    inbox_lists: tuple[InboxList, ...] = ()


_contributions: dict[str, Contribution] = {}


def register(contribution: Contribution) -> None:
    if contribution.key not in ORDER:
        raise ValueError(f"Name {contribution.key!r} in handoff.registry.ORDER first.")
    _contributions[contribution.key] = contribution


def contributions() -> list[Contribution]:
    return [_contributions[key] for key in ORDER if key in _contributions]


def sections() -> list[Section]:
    return [s for c in contributions() for s in c.sections]


def rules() -> list[Rule]:
    return [r for c in contributions() for r in c.rules]


def snapshot_parts() -> list[Part]:
    return [p for c in contributions() for p in c.snapshot]


def traits() -> list[Trait]:
    return [t for c in contributions() for t in c.vitally_traits]


def columns() -> list[Column]:
    return [column for c in contributions() for column in c.columns]


def inbox_counts() -> list[InboxCount]:
    return [count for c in contributions() for count in c.inbox_counts]


def inbox_lists(*, holder: str) -> list[InboxList]:
    return [i for c in contributions() for i in c.inbox_lists if i.holder == holder]


def columns_prepare(queryset: QuerySet) -> QuerySet:
    for column in columns():
        if column.prepare is not None:
            queryset = column.prepare(queryset)
    return queryset
