"""What the Vitally sync adds to an account's record (handoff/registry.py): its slice (the
differences found in Vitally), the Vitally column of the dashboard (its badge beside the phase
too), the Vitally section of the account page, and the sync's state and differences in the
account page's attention list. The sync row comes joined with the account (the column's
`prepare`), so none of these queries but the panel's recent attempts."""

import json
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse, reverse_lazy
from django.utils.text import format_lazy

from handoff.permissions import Action, can
from handoff.registry import AttentionItem, Column, Contribution, InboxList, Section
from vitally_sync.conf import sync_config
from vitally_sync.differences import (
    ResolveRefused,
    difference_list,
    difference_lists,
    difference_rows,
    origin_detail,
    origin_groups,
)
from vitally_sync.models import NOTE_HELD_STATES, NoteSync, TraitDifference
from vitally_sync.payloads import traits_build, traits_diff
from vitally_sync.reconcile import value_text
from vitally_sync.selectors import (
    account_sync_of,
    portal_values_of,
    sync_attempt_list,
    sync_badge,
    sync_known_traits,
)


def _no_production(record) -> bool:
    """The record's deployments slice holds no production deployment (no query: loaded)."""
    overview = record.slices.get("deployments")
    return overview is not None and getattr(overview, "production", None) is None


def differences_of(record) -> list:
    return record.slices["vitally_sync"]


_LEVELS = {
    "failed": AttentionItem.Level.CRITICAL,
    "attention": AttentionItem.Level.CRITICAL,
    "retrying": AttentionItem.Level.WARNING,
}


def vitally_attention_items(record) -> list[AttentionItem]:
    """Only what needs someone: a refused key, an account that needs attention, or a push
    being retried."""
    account = record.account
    badge = sync_badge(account=account, sync=account_sync_of(account), config=sync_config())
    level = _LEVELS.get(badge.state)
    if level is None:
        return []
    return [
        AttentionItem(
            level=level,
            title=f"Vitally sync: {badge.label.lower()}",
            detail=badge.title,
            url=reverse("accounts:detail", args=[account.pk]) + "#vitally",
        )
    ]


def vitally_difference_items(record) -> list[AttentionItem]:
    """Each field whose value in Vitally is not the portal's ("Differs in Vitally"): the field
    in the handbook's words, both values, and where it came from (changed in Vitally since the
    portal sent it, and since when; or held in Vitally when the account was linked); linked to
    the panel's row, where the maintainer keeps the portal's value or takes Vitally's."""
    page = reverse("accounts:detail", args=[record.account.pk])
    return [
        AttentionItem(
            level=AttentionItem.Level.WARNING,
            title=f"Differs in Vitally: {row.label}",
            detail=(
                f"The portal: {value_text(row.difference.portal_value)} · Vitally: "
                f"{value_text(row.difference.vitally_value, none='not set')} · "
                f"{origin_detail(row.difference)}"
            ),
            url=f"{page}#{row.anchor}",
        )
        for row in difference_rows(record.account, differences_of(record))
    ]


def vitally_note_items(record) -> list[AttentionItem]:
    """Notes someone changed, archived or deleted in Vitally since the portal sent them: their
    corrections wait for a person's choice on the Vitally page. Counted on the sync row, which
    comes with the record's account (no query)."""
    sync = account_sync_of(record.account)
    count = sync.note_decisions if sync is not None else 0
    if not count:
        return []
    return [
        AttentionItem(
            level=AttentionItem.Level.WARNING,
            title=(
                "A note differs in Vitally" if count == 1 else f"{count} notes differ in Vitally"
            ),
            detail=(
                "Changed, archived or deleted in Vitally after the portal sent "
                + ("it" if count == 1 else "them")
                + ": the portal's corrections wait until someone sends the portal's text or "
                "leaves Vitally's note."
            ),
            url=reverse("vitally_sync:panel", args=[record.account.pk]) + "#vitally-notes",
        )
    ]


# --- The Vitally section of the account page ---------------------------------------------------
def panel_context(
    record,
    user,
    *,
    notice: str = "",
    refused: bool = False,
    errors: dict[int, ResolveRefused] | None = None,
    action: tuple[str, str] | None = None,
    summary: bool = False,
    reading: float | None = None,
) -> dict:
    """The Vitally panel: state, last push, the fields that differ in Vitally (read back by
    reconcile.py) with what may be done about them, the last error; and, on the Vitally page
    (not the account page's `summary`), what Vitally is known to hold beside the portal's
    values (what a push would send is what differs) and recent attempts. The attempts are its
    one query: the rest comes with the record. `reading`: when "Read Vitally back now" was
    asked, while the panel waits for the read (it polls, the time in its address)."""
    account = record.account
    config = sync_config()
    sync = account_sync_of(account)
    badge = sync_badge(account=account, sync=sync, config=config)
    differences = difference_rows(account, differences_of(record), config=config, errors=errors)
    can_resolve = can(user, Action.VITALLY_PUSH, account)
    can_take = can_resolve and can(user, Action.RECORD_EDIT, account)
    takeable = [row for row in differences if row.takeable]
    origins = {row.difference.origin for row in differences}
    details: dict = {}
    if not summary:
        current = traits_build(portal_values_of(record), trait_map=config.trait_map)
        last = sync_known_traits(sync, account.vitally_account_id) if sync is not None else None
        rows = traits_diff(last, current, trait_map=config.trait_map)
        read_back = {row.difference.trait_key: row.difference for row in differences}
        details = {
            "rows": rows,
            # Each trait row with what the last read found in Vitally when it differs.
            "table": [(row, read_back.get(row.key)) for row in rows],
            "changed_count": sum(1 for row in rows if row.changed),
            "known_json": json.dumps(last, indent=2, ensure_ascii=False) if last else "",
            "attempts": sync_attempt_list(account_id=account.pk),
        }
    return {
        **details,
        "summary": summary,
        "config": config,
        "sync": sync,
        "badge": badge,
        "differences": differences,
        "can_resolve": can_resolve,
        "can_take": can_take,
        # One click for what would be many: offered where it saves one (2 or more to take).
        "take_all": takeable if can_take and len(takeable) >= 2 else [],
        # A first Take creates the production deployment from Vitally's deployment type and
        # hosting provider (differences.production_from_vitally): said before the click.
        "takes_production": bool(takeable) and can_take and _no_production(record),
        # Where the differences came from, for the words above them: "link", "read_back", or
        # "mixed" (each row then says which).
        "origin": origins.pop() if len(origins) == 1 else "mixed",
        "can_push": (
            config.enabled
            and bool(account.vitally_account_id)
            and can(user, Action.VITALLY_PUSH, account)
        ),
        # While something is on its way, the panel refreshes itself (htmx) to show it land.
        "polling": badge.state in ("pending", "retrying") or reading is not None,
        "poll_query": urlencode(
            {
                **({"summary": "1"} if summary else {}),
                **({"read": f"{reading:.3f}"} if reading is not None else {}),
            }
        ),
        "notice": notice,
        "notice_action": action,  # (label, url): where to do what a refusal asks
        # The notice says why nothing was done: shown as an error (role="alert"), not a status.
        "refused": refused,
    }


def summary_context(record, user) -> dict:
    """The account page's Vitally section: the panel without the trait table and attempts,
    which the Vitally page (vitally_sync:panel) shows."""
    return panel_context(record, user, summary=True)


def _with_sync_state(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("vitally_sync")  # the badge, in the same query


def _load(account, *, for_snapshot: bool) -> list:
    return difference_list(account_id=account.pk)


# --- My work (handoff/accounts/inbox.py) ---------------------------------------------------------
def inbox_differences(accounts: QuerySet) -> list[tuple]:
    """(account, its difference rows, their fields by where they came from) for each of
    `accounts` with fields that differ in Vitally and still hold (as the panel lists them).
    One query."""
    config = sync_config()
    by_account: dict[int, tuple] = {}
    for difference in (
        TraitDifference.objects.filter(account__in=accounts)
        .select_related("account", "account__vitally_sync")
        .order_by("account__name", "account_id", "first_seen_at", "pk")
    ):
        account, differences = by_account.setdefault(
            difference.account_id, (difference.account, [])
        )
        differences.append(difference)
    rows = [
        (account, difference_rows(account, differences, config=config))
        for account, differences in by_account.values()
    ]
    return [(account, found, origin_groups(found)) for account, found in rows if found]


def inbox_note_decisions(accounts: QuerySet) -> list[tuple]:
    """(account, its notes that differ in Vitally) for each of `accounts` with notes waiting
    for a decision (as the attention list says). One query."""
    by_account: dict[int, tuple] = {}
    for note in (
        NoteSync.objects.filter(
            account__in=accounts, left_at__isnull=True, in_vitally__in=NOTE_HELD_STATES
        )
        .select_related("account", "journal_entry")
        .order_by("account__name", "account_id", "in_vitally_since", "pk")
    ):
        by_account.setdefault(note.account_id, (note.account, []))[1].append(note)
    return list(by_account.values())


def inbox_sync_trouble(accounts: QuerySet) -> list[tuple]:
    """(account, badge) for each of `accounts` whose sync needs someone: refused, needs
    attention, retrying (as the attention strip says), or differing in Vitally (a manager may
    decide too; the keeper also has it in their own list). One query."""
    config = sync_config()
    badges = [
        (account, sync_badge(account=account, sync=account_sync_of(account), config=config))
        for account in accounts.select_related("vitally_sync").order_by("name", "pk")
    ]
    wanted = {*_LEVELS, "differs"}
    return [(account, badge) for account, badge in badges if badge.state in wanted]


def _load_many(accounts) -> dict:
    return difference_lists(account_ids=[account.pk for account in accounts])


VITALLY = Contribution(
    key="vitally_sync",
    load=_load,
    load_many=_load_many,
    columns=(
        Column(
            "vitally",
            "Vitally",
            "vitally_sync/_badge.html",
            prepare=_with_sync_state,
            on_account_page=True,
        ),
    ),
    sections=(Section("vitally", "Vitally", "vitally_sync/_panel.html", summary_context),),
    attention=(vitally_attention_items, vitally_difference_items, vitally_note_items),
    inbox_lists=(
        InboxList(
            "vitally-differences",
            "Vitally differences to resolve",
            "keeper",  # who may keep the portal's value or take Vitally's
            "vitally_sync/inbox/_differences.html",
            inbox_differences,
        ),
        InboxList(
            "vitally-notes",
            "Vitally notes to decide",
            "keeper",  # who may send the portal's text or leave Vitally's note
            "vitally_sync/inbox/_notes.html",
            inbox_note_decisions,
        ),
        InboxList(
            "sync-trouble",
            "Vitally sync trouble",
            "manager",
            "vitally_sync/inbox/_sync_trouble.html",
            inbox_sync_trouble,
            # The Vitally sync page's trouble, of every account, not only the manager's.
            more_url=format_lazy("{}?state=trouble", reverse_lazy("vitally_sync:health")),
            more_label="All sync trouble, every account",
        ),
    ),
)
