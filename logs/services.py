"""Writes to the four logs. Every write: one transaction, full_clean, and record_change: an audit
event with the field-level before → after, and the account marked changed (what the Vitally
sync follows)."""

import datetime
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from handoff.accounts.models import Account
from handoff.accounts.services import record_change
from handoff.audit.models import AuditEvent
from handoff.common.services import (
    ExpectedVersion,
    check_version,
    model_create_values,
    model_update,
)
from logs import notifications
from logs.models import (
    ExpansionOpportunity,
    Issue,
    IssueNote,
    JournalEntry,
    LogSequence,
    Risk,
    StaleDigest,
)

logger = logging.getLogger(__name__)

JOURNAL_FIELDS = ["title", "category", "kind", "body", "reference_url"]
ISSUE_FIELDS = [
    "title",
    "description",
    "severity",
    "owner",
    "target_date",
    "external_ticket_url",
    "status",
    "resolution",
]
RISK_FIELDS = [
    "title",
    "description",
    "category",
    "likelihood",
    "impact",
    "trigger",
    "response_strategy",
    "response_plan",
    "owner",
    "status",
    "next_review_date",
]
OPPORTUNITY_FIELDS = [
    "title",
    "opportunity_type",
    "description",
    "signal",
    "estimated_additional_users",
    "owner",
    "stage",
]


def _stripped(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


def _next_number(*, account_id: int, log: str) -> int:
    """The next I-n / R-n of the account. The sequence row stays locked until the caller's
    transaction ends, so two people adding at once get consecutive numbers, never the same."""
    LogSequence.objects.bulk_create(
        [LogSequence(account_id=account_id, log=log)], ignore_conflicts=True
    )
    sequence = LogSequence.objects.select_for_update().get(account_id=account_id, log=log)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


# --- Implementation notes --------------------------------------------------------------------
@transaction.atomic
def journal_entry_create(
    *,
    account: Account,
    author,
    title: str,
    body: str,
    category: str = JournalEntry.Category.GENERAL,
    kind: str = JournalEntry.Kind.INFO,
    reference_url: str = "",
) -> JournalEntry:
    entry = JournalEntry(
        account=account,
        author=author,
        **_stripped(
            {
                "title": title,
                "body": body,
                "category": category,
                "kind": kind,
                "reference_url": reference_url,
            }
        ),
    )
    entry.full_clean()
    entry.save()
    record_change(
        actor=author,
        obj=entry,
        action=AuditEvent.Kind.CREATE,
        changes=model_create_values(entry, JOURNAL_FIELDS),
    )
    return entry


@transaction.atomic
def journal_entry_update(
    *, entry: JournalEntry, actor, data: dict[str, Any], expected_version: ExpectedVersion
) -> JournalEntry:
    """Correct an entry. The audit event keeps the earlier text (before → after)."""
    locked = JournalEntry.objects.select_for_update().get(pk=entry.pk)
    check_version(locked, expected_version)
    fields = [f for f in JOURNAL_FIELDS if f in data]
    changes = model_update(instance=locked, fields=fields, data=_stripped(data))
    if changes:
        record_change(actor=actor, obj=locked, action=AuditEvent.Kind.UPDATE, changes=changes)
    return locked


# --- Issues Log ------------------------------------------------------------------------------
def _issue_create(
    *,
    account: Account,
    actor,
    title: str,
    owner,
    description: str = "",
    severity: str = Issue.Severity.MEDIUM,
    target_date: datetime.date | None = None,
    external_ticket_url: str = "",
    message: str = "",
) -> Issue:
    issue = Issue(
        account=account,
        raised_by=actor,
        owner=owner,
        target_date=target_date,
        status=Issue.Status.OPEN,
        **_stripped(
            {
                "title": title,
                "description": description,
                "severity": severity,
                "external_ticket_url": external_ticket_url,
            }
        ),
    )
    issue.full_clean(exclude=["number"])  # validate before taking a number (and its lock)
    issue.number = _next_number(account_id=account.pk, log=LogSequence.Log.ISSUE)
    issue.save()
    record_change(
        actor=actor,
        obj=issue,
        action=AuditEvent.Kind.CREATE,
        changes=model_create_values(issue, ISSUE_FIELDS),
        message=message,
    )
    return issue


@transaction.atomic
def issue_create(
    *,
    account: Account,
    actor,
    title: str,
    owner,
    description: str = "",
    severity: str = Issue.Severity.MEDIUM,
    target_date: datetime.date | None = None,
    external_ticket_url: str = "",
) -> Issue:
    return _issue_create(
        account=account,
        actor=actor,
        title=title,
        owner=owner,
        description=description,
        severity=severity,
        target_date=target_date,
        external_ticket_url=external_ticket_url,
    )


def _issue_apply(*, locked: Issue, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply edited fields; the resolved date follows the status (set on resolving or closing,
    cleared on reopening). Model validation refuses resolving without a resolution."""
    data = _stripped(data)
    status = data.get("status", locked.status)
    if status in Issue.DONE_STATUSES and locked.resolved_on is None:
        data["resolved_on"] = timezone.localdate()
    elif status in Issue.OPEN_STATUSES:
        data["resolved_on"] = None
    fields = [f for f in [*ISSUE_FIELDS, "resolved_on"] if f in data]
    return model_update(instance=locked, fields=fields, data=data)


@transaction.atomic
def issue_update(
    *, issue: Issue, actor, data: dict[str, Any], expected_version: ExpectedVersion
) -> Issue:
    locked = Issue.objects.select_for_update().get(pk=issue.pk)
    check_version(locked, expected_version)
    changes = _issue_apply(locked=locked, data=data)
    if changes:
        record_change(actor=actor, obj=locked, action=AuditEvent.Kind.UPDATE, changes=changes)
    return locked


@transaction.atomic
def issue_status_change(*, issue: Issue, actor, status: str, resolution: str = "") -> Issue:
    """The one-click status change of the list. A resolution typed with it is kept; without
    one, resolving an issue that has none is refused (ValidationError on `resolution`)."""
    locked = Issue.objects.select_for_update().get(pk=issue.pk)
    data: dict[str, Any] = {"status": status}
    if resolution.strip():
        data["resolution"] = resolution
    changes = _issue_apply(locked=locked, data=data)
    if changes:
        record_change(actor=actor, obj=locked, action=AuditEvent.Kind.STATUS, changes=changes)
    return locked


@transaction.atomic
def issue_note_add(*, issue: Issue, actor, body: str) -> IssueNote:
    """A dated update. It counts as activity: the issue's staleness clock restarts."""
    locked = Issue.objects.select_for_update().get(pk=issue.pk)
    note = IssueNote(issue=locked, author=actor, body=body.strip())
    note.full_clean()
    note.save()
    locked.save(update_fields=["updated_at"])
    record_change(
        actor=actor,
        obj=locked,
        action=AuditEvent.Kind.ACTION,
        changes=model_create_values(note, ["body"]),
        message=f"Update added to {locked.reference}",
    )
    return note


# --- Risk Log --------------------------------------------------------------------------------
_OCCURRED_ONLY_BY_ACTION = "Use “It happened” to record that a risk occurred: it raises the issue."


@transaction.atomic
def risk_create(
    *,
    account: Account,
    actor,
    title: str,
    description: str,
    likelihood: int,
    impact: int,
    owner,
    category: str = Risk.Category.OTHER,
    trigger: str = "",
    response_strategy: str = Risk.Strategy.MITIGATE,
    response_plan: str = "",
    next_review_date: datetime.date | None = None,
) -> Risk:
    risk = Risk(
        account=account,
        raised_by=actor,
        owner=owner,
        likelihood=likelihood,
        impact=impact,
        next_review_date=next_review_date,
        status=Risk.Status.OPEN,
        **_stripped(
            {
                "title": title,
                "description": description,
                "category": category,
                "trigger": trigger,
                "response_strategy": response_strategy,
                "response_plan": response_plan,
            }
        ),
    )
    risk.full_clean(exclude=["number"])
    risk.number = _next_number(account_id=account.pk, log=LogSequence.Log.RISK)
    risk.save()
    record_change(
        actor=actor,
        obj=risk,
        action=AuditEvent.Kind.CREATE,
        changes=model_create_values(risk, RISK_FIELDS),
    )
    return risk


def _risk_apply(*, locked: Risk, data: dict[str, Any]) -> list[dict[str, Any]]:
    if data.get("status") == Risk.Status.OCCURRED and locked.status != Risk.Status.OCCURRED:
        raise ValidationError({"status": _OCCURRED_ONLY_BY_ACTION})
    fields = [f for f in RISK_FIELDS if f in data]
    return model_update(instance=locked, fields=fields, data=_stripped(data))


@transaction.atomic
def risk_update(
    *, risk: Risk, actor, data: dict[str, Any], expected_version: ExpectedVersion
) -> Risk:
    locked = Risk.objects.select_for_update().get(pk=risk.pk)
    check_version(locked, expected_version)
    changes = _risk_apply(locked=locked, data=data)
    if changes:
        record_change(actor=actor, obj=locked, action=AuditEvent.Kind.UPDATE, changes=changes)
    return locked


@transaction.atomic
def risk_status_change(*, risk: Risk, actor, status: str) -> Risk:
    locked = Risk.objects.select_for_update().get(pk=risk.pk)
    changes = _risk_apply(locked=locked, data={"status": status})
    if changes:
        record_change(actor=actor, obj=locked, action=AuditEvent.Kind.STATUS, changes=changes)
    return locked


# A risk that comes to fruition becomes an issue of the same weight.
_SEVERITY_FOR_BAND = {
    Risk.Band.CRITICAL: Issue.Severity.CRITICAL,
    Risk.Band.HIGH: Issue.Severity.HIGH,
    Risk.Band.MEDIUM: Issue.Severity.MEDIUM,
    Risk.Band.LOW: Issue.Severity.LOW,
}


class RiskAlreadyOccurred(Exception):
    """ "It happened" on a risk that already did: nothing changes; `issue` is the one raised."""

    def __init__(self, risk: Risk, issue: Issue):
        super().__init__(f"{risk.reference} already happened: {issue.reference} was raised then.")
        self.issue = issue


@transaction.atomic
def risk_mark_occurred(*, risk: Risk, actor) -> Issue:
    """ "It happened": raise an issue for the risk, owned by the risk's owner, and link the two
    both ways (risk.issue, issue.source_risk). Pressed again (a second tab, a double click)
    it changes nothing and raises RiskAlreadyOccurred with the issue raised the first time."""
    locked = Risk.objects.select_for_update().select_related("account", "owner").get(pk=risk.pk)
    if locked.issue is not None:  # no query when there is none
        raise RiskAlreadyOccurred(locked, locked.issue)
    if not locked.is_open:
        raise ValidationError(
            f"{locked.reference} is {locked.get_status_display().lower()}: only an open or "
            "monitored risk can happen."
        )
    sections = [f"{locked.reference} “{locked.title}” occurred.", locked.description]
    if locked.response_plan:
        sections.append(f"Response plan ({locked.get_response_strategy_display()}):")
        sections.append(locked.response_plan)
    issue = _issue_create(
        account=locked.account,
        actor=actor,
        title=locked.title,
        owner=locked.owner,
        description="\n\n".join(sections),
        severity=_SEVERITY_FOR_BAND[locked.band],  # type: ignore[index]  # saved: scored
        message=f"Raised from {locked.reference}, which occurred",
    )
    before = {"status": locked.get_status_display(), "issue": None}
    locked.status = Risk.Status.OCCURRED
    locked.issue = issue
    locked.occurred_at = timezone.now()
    locked.full_clean()
    locked.version += 1
    locked.save(update_fields=["status", "issue", "occurred_at", "version", "updated_at"])
    record_change(
        actor=actor,
        obj=locked,
        action=AuditEvent.Kind.STATUS,
        changes=[
            {"field": "status", "label": "Status", "before": before["status"], "after": "Occurred"},
            {"field": "issue", "label": "Issue raised", "before": None, "after": str(issue)},
        ],
        message=f"It happened: {issue.reference} raised",
    )
    return issue


# --- Expansion Opportunities -----------------------------------------------------------------
def _opportunity_apply(
    *, locked: ExpansionOpportunity, data: dict[str, Any]
) -> list[dict[str, Any]]:
    """The first move to "Transitioned to TA" (or past it, to the account executive) records
    when the opportunity was transitioned."""
    data = _stripped(data)
    passed_to_ta = (
        ExpansionOpportunity.Stage.TRANSITIONED,
        ExpansionOpportunity.Stage.HANDED_TO_AE,
    )
    if data.get("stage") in passed_to_ta and locked.transitioned_at is None:
        data["transitioned_at"] = timezone.now()
    fields = [f for f in [*OPPORTUNITY_FIELDS, "transitioned_at"] if f in data]
    return model_update(instance=locked, fields=fields, data=data)


@transaction.atomic
def opportunity_create(
    *,
    account: Account,
    actor,
    title: str,
    owner,
    opportunity_type: str = ExpansionOpportunity.Type.USER,
    description: str = "",
    signal: str = "",
    estimated_additional_users: int | None = None,
) -> ExpansionOpportunity:
    opportunity = ExpansionOpportunity(
        account=account,
        identified_by=actor,
        owner=owner,
        estimated_additional_users=estimated_additional_users,
        **_stripped(
            {
                "title": title,
                "opportunity_type": opportunity_type,
                "description": description,
                "signal": signal,
            }
        ),
    )
    opportunity.full_clean()
    opportunity.save()
    record_change(
        actor=actor,
        obj=opportunity,
        action=AuditEvent.Kind.CREATE,
        changes=model_create_values(opportunity, OPPORTUNITY_FIELDS),
    )
    return opportunity


@transaction.atomic
def opportunity_update(
    *,
    opportunity: ExpansionOpportunity,
    actor,
    data: dict[str, Any],
    expected_version: ExpectedVersion,
) -> ExpansionOpportunity:
    locked = ExpansionOpportunity.objects.select_for_update().get(pk=opportunity.pk)
    check_version(locked, expected_version)
    changes = _opportunity_apply(locked=locked, data=data)
    if changes:
        record_change(actor=actor, obj=locked, action=AuditEvent.Kind.UPDATE, changes=changes)
    return locked


@transaction.atomic
def opportunity_stage_change(
    *, opportunity: ExpansionOpportunity, actor, stage: str
) -> ExpansionOpportunity:
    locked = ExpansionOpportunity.objects.select_for_update().get(pk=opportunity.pk)
    changes = _opportunity_apply(locked=locked, data={"stage": stage})
    if changes:
        record_change(actor=actor, obj=locked, action=AuditEvent.Kind.STATUS, changes=changes)
    return locked


# --- The "Update requested" digest -----------------------------------------------------------
def stale_digests_send(*, now: datetime.datetime | None = None) -> int:
    """E-mail each owner of stale open issues and risks ONE digest listing them all, at most
    once a day. Returns how many digests were queued.

    Each owner is done in their own transaction: the StaleDigest row and the e-mail are
    recorded together (notifications.email_stale_digest), and the outbox retries an e-mail the
    mail server refuses."""
    from logs.selectors import stale_item_list_by_owner

    now = now or timezone.now()
    sent_on = timezone.localdate(now)
    sent = 0
    for owner, items in stale_item_list_by_owner(now=now).items():
        if not owner.email:
            logger.warning("No e-mail address for %s; %d stale items unsent", owner, len(items))
            continue
        with transaction.atomic():
            _digest, created = StaleDigest.objects.get_or_create(
                recipient=owner, sent_on=sent_on, defaults={"item_count": len(items)}
            )
            if not created:
                continue  # already sent today
            notifications.email_stale_digest(owner=owner, items=items, now=now)
        sent += 1
    return sent
