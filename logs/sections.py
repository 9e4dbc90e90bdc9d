"""The four logs as sections of the account page (registered in LogsConfig.ready). Each
section costs two queries, whatever the size of its log; none on the handoff page, whose
account comes with every log's rows already loaded (`selectors.handoff_prefetch`)."""

from django.urls import reverse
from django.utils import timezone

from handoff.accounts.sections import AccountSection, register_section
from handoff.permissions import Action, can
from logs.models import ExpansionOpportunity
from logs.selectors import (
    OPEN_FILTER,
    SECTION_ROWS,
    issue_list,
    issue_summary,
    issue_summary_of,
    issues_ordered,
    journal_entries_ordered,
    journal_latest_get,
    opportunities_ordered,
    opportunity_list,
    opportunity_summary,
    opportunity_summary_of,
    prefetched,
    risk_list,
    risk_summary,
    risk_summary_of,
    risks_ordered,
)


def _links(account, log: str, *, can_add: bool) -> dict:
    return {
        "list_url": reverse(f"logs:{log}_list", args=[account.pk]),
        "add_url": reverse(f"logs:{log}_create", args=[account.pk]),
        "can_add": can_add,
    }


def journal_context(*, account, user) -> dict:
    # The pages' load leaves the notes out (only the sign-off snapshot needs them all).
    loaded = prefetched(account, "journal_entries")
    if loaded is not None:
        entries, total = journal_entries_ordered(loaded)[:3], len(loaded)
    else:
        entries, total = journal_latest_get(account_id=account.pk, limit=3)
    return {
        "entries": entries,
        "total": total,
        **_links(account, "journal", can_add=can(user, Action.JOURNAL_ADD, account)),
    }


def issues_context(*, account, user) -> dict:
    loaded = prefetched(account, "issues")
    if loaded is not None:
        issues = [i for i in issues_ordered(loaded) if i.is_open][:SECTION_ROWS]
        summary = issue_summary_of(loaded, now=timezone.now())
    else:
        issues = list(issue_list(account_id=account.pk, status=OPEN_FILTER)[:SECTION_ROWS])
        summary = issue_summary(account_id=account.pk)
    return {
        "issues": issues,
        "summary": summary,
        **_links(account, "issue", can_add=can(user, Action.LOG_EDIT, account)),
    }


def risks_context(*, account, user) -> dict:
    loaded = prefetched(account, "risks")
    if loaded is not None:
        risks = [r for r in risks_ordered(loaded) if r.is_open][:SECTION_ROWS]
        summary = risk_summary_of(loaded, now=timezone.now())
    else:
        risks = list(risk_list(account_id=account.pk, status=OPEN_FILTER)[:SECTION_ROWS])
        summary = risk_summary(account_id=account.pk)
    return {
        "risks": risks,
        "summary": summary,
        **_links(account, "risk", can_add=can(user, Action.LOG_EDIT, account)),
    }


def opportunities_context(*, account, user) -> dict:
    loaded = prefetched(account, "expansion_opportunities")
    if loaded is not None:
        active = ExpansionOpportunity.ACTIVE_STAGES
        opportunities = [o for o in opportunities_ordered(loaded) if o.stage in active]
        opportunities, summary = opportunities[:SECTION_ROWS], opportunity_summary_of(loaded)
    else:
        opportunities = list(
            opportunity_list(account_id=account.pk, stage=OPEN_FILTER)[:SECTION_ROWS]
        )
        summary = opportunity_summary(account_id=account.pk)
    return {
        "opportunities": opportunities,
        "summary": summary,
        **_links(account, "opportunity", can_add=can(user, Action.LOG_EDIT, account)),
    }


def register_log_sections() -> None:
    for key, title, get_context, order in [
        ("implementation-notes", "Implementation notes", journal_context, 60),
        ("issues-log", "Issues Log", issues_context, 70),
        ("risk-log", "Risk Log", risks_context, 80),
        ("expansion-opportunities", "Expansion Opportunities", opportunities_context, 90),
    ]:
        register_section(
            AccountSection(
                key=key,
                title=title,
                template=f"logs/sections/{key}.html",
                get_context=get_context,
                order=order,
            )
        )
