"""What the four logs add to an account's record (handoff/registry.py): their slice
(`selectors.LogsRecord`), a section each on the account page, three readiness rules, the open
critical and high issues, high and critical risks and stale items in the attention strip, and a
snapshot part per log (logs/snapshot.py).

Every function here reads the record's slice: no query of its own, whatever the logs' size."""

from django.urls import reverse, reverse_lazy
from django.utils import timezone

from handoff.permissions import Action, can
from handoff.registry import (
    AttentionItem,
    Blocker,
    Contribution,
    InboxCount,
    InboxList,
    Part,
    Rule,
    Section,
    Trait,
    counted,
)
from logs import snapshot
from logs.models import ExpansionOpportunity, Issue, Risk
from logs.scoring import band_score_range
from logs.selectors import (
    SECTION_ROWS,
    accounts_with_items_due_list,
    critical_risk_list,
    issue_summary,
    log_counts,
    logs_of,
    logs_record_get,
    logs_records_list,
    opportunity_summary,
    risk_summary,
)
from logs.staleness import issue_stale_reason, risk_stale_reason


def _is_high(risk: Risk) -> bool:
    high_from, _ = band_score_range(Risk.Band.HIGH)
    return risk.is_open and risk.score >= high_from


# --- Readiness rules -----------------------------------------------------------------------------
def rule_no_open_critical_issue(record) -> list[Blocker]:
    return [
        Blocker(
            title=f"Open critical issue {issue.reference}: {issue.title}",
            detail="Resolve or close it, or lower its severity once it no longer threatens "
            "the deployment.",
            url=issue.get_absolute_url(),
        )
        for issue in logs_of(record).issues
        if issue.is_open and issue.severity == Issue.Severity.CRITICAL
    ]


def rule_risks_have_response_plans(record) -> list[Blocker]:
    """Open and monitored risks of band high or critical need a plan for when they happen."""
    return [
        Blocker(
            title=f"{risk.band.label} risk {risk.reference} without a response plan: {risk.title}",
            detail="Write the response plan: what we do if it comes to fruition.",
            url=reverse("logs:risk_edit", args=[record.account.pk, risk.pk])
            + f"#risk-{risk.pk}-response_plan",
            action=Action.LOG_EDIT,
            view_url=risk.get_absolute_url(),
        )
        for risk in logs_of(record).risks
        if _is_high(risk) and not risk.response_plan.strip()
    ]


def rule_expansion_transitioned(record) -> list[Blocker]:
    return [
        Blocker(
            title=f"Opportunity not transitioned to the TA: {opportunity.title}",
            detail="Pass what you learned to the technical advisor, then set the stage to "
            "“Transitioned to TA”.",
            url=opportunity.get_absolute_url(),
        )
        for opportunity in logs_of(record).opportunities
        if opportunity.stage == ExpansionOpportunity.Stage.IDENTIFIED
    ]


# --- Attention -----------------------------------------------------------------------------------
def _with_stale(detail: str, reason: str) -> str:
    return f"{detail} Update due: {reason}" if reason else detail


_ATTENTION_SEVERITIES = (Issue.Severity.CRITICAL, Issue.Severity.HIGH)


def _open_critical_high_issues(record) -> list[Issue]:
    return [
        issue
        for issue in logs_of(record).issues
        if issue.is_open and issue.severity in _ATTENTION_SEVERITIES
    ]


def attention_issues(record) -> list[AttentionItem]:
    """Open high issues (warning). Each cause once: open critical issues are blockers."""
    now = timezone.now()
    items = []
    for issue in logs_of(record).issues:
        # An open critical issue is a blocker (rule_no_open_critical_issue) and shows there.
        if not issue.is_open or issue.severity != Issue.Severity.HIGH:
            continue
        days = issue.days_open
        detail = (
            f"{issue.get_status_display()}, owner {issue.owner}, open {days} "
            f"day{'s' if days != 1 else ''}."
        )
        items.append(
            AttentionItem(
                level=AttentionItem.Level.WARNING,
                title=f"{issue.get_severity_display()} issue {issue.reference}: {issue.title}",
                detail=_with_stale(detail, issue_stale_reason(issue, now=now)),
                url=issue.get_absolute_url(),
            )
        )
    return items


def attention_risks(record) -> list[AttentionItem]:
    """Open and monitored risks of band critical (critical) and high (warning) that have a
    response plan; those without one are blockers."""
    now = timezone.now()
    items = []
    for risk in logs_of(record).risks:
        # Without a response plan it is a blocker (rule_risks_have_response_plans) and shows there.
        if not _is_high(risk) or not risk.response_plan.strip():
            continue
        detail = (
            f"Score {risk.score} (likelihood {risk.likelihood} × impact {risk.impact}), "
            f"{risk.get_status_display().lower()}, owner {risk.owner}."
        )
        items.append(
            AttentionItem(
                level=AttentionItem.Level.CRITICAL
                if risk.band == Risk.Band.CRITICAL
                else AttentionItem.Level.WARNING,
                title=f"{risk.band.label} risk {risk.reference}: {risk.title}",
                detail=_with_stale(detail, risk_stale_reason(risk, now=now)),
                url=risk.get_absolute_url(),
            )
        )
    return items


def attention_stale(record) -> list[AttentionItem]:
    """Stale issues and risks not listed above (those say "Update due" in their detail)."""
    now = timezone.now()
    items = []
    for issue in logs_of(record).issues:
        if issue.severity in _ATTENTION_SEVERITIES:
            continue
        reason = issue_stale_reason(issue, now=now)
        if reason:
            items.append(
                AttentionItem(
                    level=AttentionItem.Level.INFO,
                    title=f"Update due: issue {issue.reference} {issue.title}",
                    detail=reason,
                    url=issue.get_absolute_url(),
                )
            )
    for risk in logs_of(record).risks:
        if _is_high(risk):
            continue
        reason = risk_stale_reason(risk, now=now)
        if reason:
            items.append(
                AttentionItem(
                    level=AttentionItem.Level.INFO,
                    title=f"Update due: risk {risk.reference} {risk.title}",
                    detail=reason,
                    url=risk.get_absolute_url(),
                )
            )
    return items


# --- Sections ------------------------------------------------------------------------------------
def _links(record, log: str, *, can_add: bool) -> dict:
    account_id = record.account.pk
    return {
        "list_url": reverse(f"logs:{log}_list", args=[account_id]),
        # Back to this page once added (logs/views/common.py::add_return).
        "add_url": reverse(f"logs:{log}_create", args=[account_id]) + "?from=account",
        "can_add": can_add,
    }


def notes_context(record, user) -> dict:
    logs = logs_of(record)
    return {
        "entries": logs.notes[:3],
        "total": logs.notes_total,
        **_links(record, "journal", can_add=can(user, Action.JOURNAL_ADD, record.account)),
    }


def issues_context(record, user) -> dict:
    issues = logs_of(record).issues
    return {
        "issues": [i for i in issues if i.is_open][:SECTION_ROWS],
        "summary": issue_summary(issues, now=timezone.now()),
        **_links(record, "issue", can_add=can(user, Action.LOG_EDIT, record.account)),
    }


def risks_context(record, user) -> dict:
    risks = logs_of(record).risks
    return {
        "risks": [r for r in risks if r.is_open][:SECTION_ROWS],
        "summary": risk_summary(risks, now=timezone.now()),
        **_links(record, "risk", can_add=can(user, Action.LOG_EDIT, record.account)),
    }


def opportunities_context(record, user) -> dict:
    opportunities = logs_of(record).opportunities
    active = ExpansionOpportunity.ACTIVE_STAGES
    return {
        "opportunities": [o for o in opportunities if o.stage in active][:SECTION_ROWS],
        "summary": opportunity_summary(opportunities),
        **_links(record, "opportunity", can_add=can(user, Action.LOG_EDIT, record.account)),
    }


VITALLY_TRAITS = (
    Trait("open_issues", "Open issues", "vitally.custom.openIssues", "number", "number"),
    Trait(
        "open_high_risks",
        "Open high/critical risks",
        "vitally.custom.openHighRisks",
        "number",
        "number",
    ),
)


def vitally_values(record) -> dict:
    counts = log_counts(logs_of(record))
    return {"open_issues": counts.open_issues, "open_high_risks": counts.open_high_risks}


# --- My work (handoff/accounts/inbox.py) ---------------------------------------------------------
def inbox_open_issues(record) -> int:
    return len(_open_critical_high_issues(record))


def inbox_items_due(record) -> int:
    """Open issues and risks due for an update, as the sections count them."""
    logs, now = logs_of(record), timezone.now()
    return issue_summary(logs.issues, now=now)["stale"] + risk_summary(logs.risks, now=now)["stale"]


def _issues_url(record) -> str:
    return reverse("logs:issue_list", args=[record.account.pk]) + "?status=open_any"


def _account_url(record) -> str:
    return reverse("accounts:detail", args=[record.account.pk]) + "#issues-log"


def _items_due(accounts) -> list:
    return accounts_with_items_due_list(accounts, now=timezone.now())


def _load(account, *, for_snapshot: bool):
    return logs_record_get(account_id=account.pk, for_snapshot=for_snapshot)


def _load_many(accounts) -> dict:
    return logs_records_list(account_ids=[account.pk for account in accounts])


def _rows(logs) -> list:
    return [*logs.notes, *logs.issues, *logs.risks, *logs.opportunities]


LOGS = Contribution(
    key="logs",
    load=_load,
    load_many=_load_many,
    rows=_rows,
    sections=(
        Section(
            "implementation-notes",
            "Implementation notes",
            "logs/sections/implementation-notes.html",
            notes_context,
            half=True,
        ),
        Section("issues-log", "Issues Log", "logs/sections/issues-log.html", issues_context),
        Section("risk-log", "Risk Log", "logs/sections/risk-log.html", risks_context),
        Section(
            "expansion-opportunities",
            "Expansion Opportunities",
            "logs/sections/expansion-opportunities.html",
            opportunities_context,
        ),
    ),
    rules=(
        Rule(
            "no_open_critical_issue",
            "No open critical issue",
            rule_no_open_critical_issue,
            counted("open critical issues"),
        ),
        Rule(
            "risks_have_response_plans",
            "No high or critical risk without a response plan",
            rule_risks_have_response_plans,
            counted("risks without a response plan"),
        ),
        Rule(
            "expansion_transitioned",
            "Expansion opportunities transitioned to the TA",
            rule_expansion_transitioned,
            counted("opportunities not transitioned"),
        ),
    ),
    attention=(attention_issues, attention_risks, attention_stale),
    snapshot=(
        Part(
            "implementation_notes",
            "Implementation notes",
            snapshot.snapshot_notes,
            snapshot.markdown_notes,
        ),
        Part("issues_log", "Issues Log", snapshot.snapshot_issues, snapshot.markdown_issues),
        Part("risk_log", "Risk Log", snapshot.snapshot_risks, snapshot.markdown_risks),
        Part(
            "expansion_opportunities",
            "Expansion Opportunities",
            snapshot.snapshot_opportunities,
            snapshot.markdown_opportunities,
        ),
    ),
    vitally_traits=VITALLY_TRAITS,
    vitally_values=vitally_values,
    inbox_counts=(
        InboxCount("open_issues", "Open critical/high issues", inbox_open_issues, _issues_url),
        InboxCount("items_due", "Items due for an update", inbox_items_due, _account_url),
    ),
    inbox_lists=(
        InboxList(
            "items-due",
            "Handed-off accounts with items due for an update",
            "technical_advisor",
            "logs/inbox/_items_due.html",
            _items_due,
        ),
        InboxList(
            "critical-risks",
            "Critical risks across your team",
            "manager",
            "logs/inbox/_critical_risks.html",
            critical_risk_list,
            more_url=reverse_lazy("logs:risk_heatmap"),
        ),
    ),
)
