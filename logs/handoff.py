"""What the four logs add to the handoff (registered in LogsConfig.ready()): three readiness
rules, the open critical and high issues, high and critical risks and stale items in the
attention strip, and a snapshot section per log with its Markdown.

Every function here reads the account as `account_handoff_get` loads it, with
`selectors.handoff_prefetch()` applied: no query of its own, whatever the logs' size. The
Markdown renderers are pure functions of the snapshot data."""

from django.urls import reverse
from django.utils import timezone

from handoff.closeout.attention import AttentionItem, register_attention_provider
from handoff.closeout.markdown import (
    md_date,
    md_link,
    md_table,
    md_text,
    register_markdown_renderer,
)
from handoff.closeout.readiness import Blocker, register_readiness_rule
from handoff.closeout.snapshot import register_snapshot_provider
from logs.models import ExpansionOpportunity, Issue, Risk
from logs.scoring import band_score_range
from logs.selectors import (
    handoff_prefetch,
    issues_ordered,
    journal_entries_ordered,
    opportunities_ordered,
    prefetched,
    risks_ordered,
)
from logs.staleness import issue_stale_reason, risk_stale_reason

# Logs' rules and sections take orders 300-599 (deployments 100-299, the checklist 900).
ORDER_NOTES = 300
ORDER_ISSUES = 310
ORDER_RISKS = 320
ORDER_OPPORTUNITIES = 330


def _rows(account, name: str) -> list:
    rows = prefetched(account, name)
    if rows is None:  # a programming error, not a state of the data
        raise ValueError(f"Load the account with account_handoff_get: {name!r} is not prefetched.")
    return rows


def _is_high(risk: Risk) -> bool:
    high_from, _ = band_score_range(Risk.Band.HIGH)
    return risk.is_open and risk.score >= high_from


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _name(user) -> str | None:
    return str(user) if user is not None else None


# --- Readiness rules -----------------------------------------------------------------------------
def rule_no_open_critical_issue(account) -> list[Blocker]:
    return [
        Blocker(
            title=f"Open critical issue {issue.reference}: {issue.title}",
            detail="Resolve or close it, or lower its severity once it no longer threatens "
            "the deployment.",
            url=issue.get_absolute_url(),
        )
        for issue in issues_ordered(_rows(account, "issues"))
        if issue.is_open and issue.severity == Issue.Severity.CRITICAL
    ]


def rule_risks_have_response_plans(account) -> list[Blocker]:
    """Open and monitored risks of band high or critical need a plan for when they happen."""
    return [
        Blocker(
            title=f"{risk.band.label} risk {risk.reference} without a response plan: {risk.title}",
            detail="Write the response plan: what we do if it comes to fruition.",
            url=reverse("logs:risk_edit", args=[account.pk, risk.pk])
            + f"#risk-{risk.pk}-response_plan",
        )
        for risk in risks_ordered(_rows(account, "risks"))
        if _is_high(risk) and not risk.response_plan.strip()
    ]


def rule_expansion_transitioned(account) -> list[Blocker]:
    return [
        Blocker(
            title=f"Opportunity not transitioned to the TA: {opportunity.title}",
            detail="Pass what you learned to the technical advisor, then set the stage to "
            "“Transitioned to TA”.",
            url=opportunity.get_absolute_url(),
        )
        for opportunity in opportunities_ordered(_rows(account, "expansion_opportunities"))
        if opportunity.stage == ExpansionOpportunity.Stage.IDENTIFIED
    ]


# --- Attention -----------------------------------------------------------------------------------
def _with_stale(detail: str, reason: str) -> str:
    return f"{detail} Update due: {reason}" if reason else detail


_ATTENTION_SEVERITIES = (Issue.Severity.CRITICAL, Issue.Severity.HIGH)


def attention_issues(account) -> list[AttentionItem]:
    """Open critical issues (critical) and open high issues (warning)."""
    now = timezone.now()
    items = []
    for issue in issues_ordered(_rows(account, "issues")):
        if not issue.is_open or issue.severity not in (
            Issue.Severity.CRITICAL,
            Issue.Severity.HIGH,
        ):
            continue
        critical = issue.severity == Issue.Severity.CRITICAL
        days = issue.days_open
        detail = (
            f"{issue.get_status_display()}, owner {issue.owner}, open {days} "
            f"day{'s' if days != 1 else ''}."
        )
        items.append(
            AttentionItem(
                level=AttentionItem.Level.CRITICAL if critical else AttentionItem.Level.WARNING,
                title=f"{issue.get_severity_display()} issue {issue.reference}: {issue.title}",
                detail=_with_stale(detail, issue_stale_reason(issue, now=now)),
                url=issue.get_absolute_url(),
            )
        )
    return items


def attention_risks(account) -> list[AttentionItem]:
    """Open and monitored risks of band critical (critical) and high (warning)."""
    now = timezone.now()
    items = []
    for risk in risks_ordered(_rows(account, "risks")):
        if not _is_high(risk):
            continue
        detail = (
            f"Score {risk.score} (likelihood {risk.likelihood} × impact {risk.impact}), "
            f"{risk.get_status_display().lower()}, owner {risk.owner}."
        )
        if not risk.response_plan.strip():
            detail += " No response plan."
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


def attention_stale(account) -> list[AttentionItem]:
    """Stale issues and risks not listed above (those say "Update due" in their detail)."""
    now = timezone.now()
    items = []
    for issue in issues_ordered(_rows(account, "issues")):
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
    for risk in risks_ordered(_rows(account, "risks")):
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


# --- Snapshot sections ---------------------------------------------------------------------------
def snapshot_notes(account) -> list[dict]:
    return [
        {
            "title": entry.title,
            "category": entry.get_category_display(),
            "kind": entry.get_kind_display(),
            "author": _name(entry.author),
            "created_at": _iso(entry.created_at),
            "edited": entry.edited,
            "notes": entry.body,
            "reference_url": entry.reference_url,
        }
        for entry in journal_entries_ordered(_rows(account, "journal_entries"))
    ]


def _source_risk(issue: Issue) -> str | None:
    try:
        return issue.source_risk.reference
    except Risk.DoesNotExist:
        return None


def snapshot_issues(account) -> list[dict]:
    return [
        {
            "reference": issue.reference,
            "title": issue.title,
            "severity": issue.get_severity_display(),
            "status": issue.get_status_display(),
            "owner": _name(issue.owner),
            "raised_by": _name(issue.raised_by),
            "raised_at": _iso(issue.raised_at),
            "target_date": _iso(issue.target_date),
            "external_ticket_url": issue.external_ticket_url,
            "description": issue.description,
            "resolution": issue.resolution,
            "resolved_on": _iso(issue.resolved_on),
            "from_risk": _source_risk(issue),
        }
        for issue in issues_ordered(_rows(account, "issues"))
    ]


def snapshot_risks(account) -> list[dict]:
    return [
        {
            "reference": risk.reference,
            "title": risk.title,
            "description": risk.description,
            "category": risk.get_category_display(),
            "likelihood": risk.get_likelihood_display(),
            "impact": risk.get_impact_display(),
            "score": risk.score,
            "band": risk.band.label,
            "trigger": risk.trigger,
            "response_strategy": risk.get_response_strategy_display(),
            "response_plan": risk.response_plan,
            "owner": _name(risk.owner),
            "status": risk.get_status_display(),
            "next_review_date": _iso(risk.next_review_date),
            "issue_raised": risk.issue.reference if risk.issue_id else None,
        }
        for risk in risks_ordered(_rows(account, "risks"))
    ]


def snapshot_opportunities(account) -> list[dict]:
    return [
        {
            "title": o.title,
            "type": o.get_opportunity_type_display(),
            "stage": o.get_stage_display(),
            "owner": _name(o.owner),
            "identified_by": _name(o.identified_by),
            "description": o.description,
            "signal": o.signal,
            "estimated_additional_users": o.estimated_additional_users,
            "transitioned_at": _iso(o.transitioned_at),
        }
        for o in opportunities_ordered(_rows(account, "expansion_opportunities"))
    ]


# --- Markdown ------------------------------------------------------------------------------------
def _quote(text: str) -> str:
    """People's Markdown as an escaped blockquote: its lines and paragraphs kept, its syntax
    shown as typed rather than run (no injected links, HTML or headings)."""
    lines = text.strip().splitlines() or [""]
    return "\n".join(f"> {md_text(line)}" if line.strip() else ">" for line in lines)


def _details(*parts: tuple[str, str]) -> str:
    """'Label: text' sentences for one table cell, the empty ones left out."""
    sentences = []
    for label, text in parts:
        text = " ".join(str(text or "").split())
        if not text:
            continue
        if text[-1] not in ".!?":
            text += "."
        sentences.append(f"{label}: {md_text(text)}" if label else md_text(text))
    return " ".join(sentences) or "—"


def markdown_notes(data: list[dict]) -> str:
    if not data:
        return "No implementation notes."
    parts = []
    for note in data:
        head = (
            f"**{md_text(note['title'])}** ({md_text(note['category'])}, {md_text(note['kind'])}): "
            f"{md_text(note['author'])}, {md_date(note['created_at'])}"
        )
        if note["edited"]:
            head += " (edited)"
        if note["reference_url"]:
            head += f". Reference: {md_link(note['reference_url'])}"
        parts.append(head + "\n\n" + _quote(note["notes"]))
    return "\n\n".join(parts)


def markdown_issues(data: list[dict]) -> str:
    if not data:
        return "No issues recorded."
    open_count = sum(1 for i in data if i["status"] not in ("Resolved", "Closed"))
    rows = [
        [
            md_text(i["reference"]),
            md_text(i["title"]),
            md_text(i["severity"]),
            md_text(i["status"]) + (f" {md_date(i['resolved_on'])}" if i["resolved_on"] else ""),
            md_text(i["owner"]),
            md_date(i["raised_at"]),
            md_date(i["target_date"]),
            md_link(i["external_ticket_url"]),
            _details(
                ("", i["description"]),
                ("Resolution", i["resolution"]),
                ("Raised from risk", i["from_risk"] or ""),
            ),
        ]
        for i in data
    ]
    header = ["No.", "Issue", "Severity", "Status", "Owner", "Raised", "Target date", "Ticket"]
    return f"{open_count} open of {len(data)}.\n\n" + md_table([*header, "Details"], rows)


def markdown_risks(data: list[dict]) -> str:
    if not data:
        return "No risks recorded."
    rows = [
        [
            md_text(r["reference"]),
            md_text(r["title"]),
            f"{md_text(r['band'])} ({r['score']})",
            md_text(r["status"]),
            md_text(r["owner"]),
            md_date(r["next_review_date"]),
            f"{md_text(r['response_strategy'])}: {md_text(r['response_plan'])}"
            if r["response_plan"]
            else f"{md_text(r['response_strategy'])}: no plan",
            _details(
                ("", r["description"]),
                ("Likelihood", r["likelihood"]),
                ("Impact", r["impact"]),
                ("Category", r["category"]),
                ("Trigger", r["trigger"]),
                ("Issue raised", r["issue_raised"] or ""),
            ),
        ]
        for r in data
    ]
    header = ["No.", "Risk", "Band (score)", "Status", "Owner", "Next review", "Response"]
    return md_table([*header, "Details"], rows)


def markdown_opportunities(data: list[dict]) -> str:
    if not data:
        return "No expansion opportunities recorded."
    rows = [
        [
            md_text(o["title"]),
            md_text(o["type"]),
            md_text(o["stage"]),
            md_text(o["owner"]),
            "—"
            if o["estimated_additional_users"] is None
            else f"{o['estimated_additional_users']:,}",
            md_date(o["transitioned_at"]),
            _details(("", o["description"]), ("Signal", o["signal"])),
        ]
        for o in data
    ]
    header = ["Opportunity", "Type", "Stage", "Owner", "Est. additional users"]
    return md_table([*header, "Transitioned to TA", "Details"], rows)


def register_handoff() -> None:
    snapshot_prefetch = handoff_prefetch()
    # Readiness and attention read the issues, risks and opportunities; only the snapshot reads
    # every implementation note, so the pages' load (account_page_get) leaves them out.
    prefetch = tuple(p for p in snapshot_prefetch if p.prefetch_to != "journal_entries")
    for key, title, fn, order in [
        ("no_open_critical_issue", "No open critical issue", rule_no_open_critical_issue, 300),
        (
            "risks_have_response_plans",
            "No high or critical risk without a response plan",
            rule_risks_have_response_plans,
            310,
        ),
        (
            "expansion_transitioned",
            "Expansion opportunities transitioned to the TA",
            rule_expansion_transitioned,
            320,
        ),
    ]:
        register_readiness_rule(key, title, fn, order=order, prefetch=prefetch)
    register_attention_provider("open_issues", attention_issues, order=300, prefetch=prefetch)
    register_attention_provider("high_risks", attention_risks, order=310, prefetch=prefetch)
    register_attention_provider("stale_items", attention_stale, order=320, prefetch=prefetch)
    for key, title, fn, order, render in [
        (
            "implementation_notes",
            "Implementation notes",
            snapshot_notes,
            ORDER_NOTES,
            markdown_notes,
        ),
        ("issues_log", "Issues Log", snapshot_issues, ORDER_ISSUES, markdown_issues),
        ("risk_log", "Risk Log", snapshot_risks, ORDER_RISKS, markdown_risks),
        (
            "expansion_opportunities",
            "Expansion Opportunities",
            snapshot_opportunities,
            ORDER_OPPORTUNITIES,
            markdown_opportunities,
        ),
    ]:
        register_snapshot_provider(key, title, fn, order=order, prefetch=snapshot_prefetch)
        register_markdown_renderer(key, render)
