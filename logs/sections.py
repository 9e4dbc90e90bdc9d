"""The four logs as sections of the account page (registered in LogsConfig.ready). Each
section costs two queries, whatever the size of its log."""

from django.urls import reverse

from handoff.accounts.sections import AccountSection, register_section
from handoff.permissions import Action, can
from logs.models import JournalEntry
from logs.selectors import (
    OPEN_FILTER,
    SECTION_ROWS,
    issue_list,
    issue_summary,
    journal_entry_list,
    opportunity_list,
    opportunity_summary,
    risk_list,
    risk_summary,
)


def _links(account, log: str, *, can_add: bool) -> dict:
    return {
        "list_url": reverse(f"logs:{log}_list", args=[account.pk]),
        "add_url": reverse(f"logs:{log}_create", args=[account.pk]),
        "can_add": can_add,
    }


def journal_context(*, account, user) -> dict:
    return {
        "entries": list(journal_entry_list(account_id=account.pk)[:3]),
        "total": JournalEntry.objects.filter(account_id=account.pk).count(),
        **_links(account, "journal", can_add=can(user, Action.JOURNAL_ADD, account)),
    }


def issues_context(*, account, user) -> dict:
    return {
        "issues": list(issue_list(account_id=account.pk, status=OPEN_FILTER)[:SECTION_ROWS]),
        "summary": issue_summary(account_id=account.pk),
        **_links(account, "issue", can_add=can(user, Action.LOG_EDIT, account)),
    }


def risks_context(*, account, user) -> dict:
    return {
        "risks": list(risk_list(account_id=account.pk, status=OPEN_FILTER)[:SECTION_ROWS]),
        "summary": risk_summary(account_id=account.pk),
        **_links(account, "risk", can_add=can(user, Action.LOG_EDIT, account)),
    }


def opportunities_context(*, account, user) -> dict:
    return {
        "opportunities": list(
            opportunity_list(account_id=account.pk, stage=OPEN_FILTER)[:SECTION_ROWS]
        ),
        "summary": opportunity_summary(account_id=account.pk),
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
