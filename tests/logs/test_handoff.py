"""What the four logs add to the handoff: three readiness rules (each blocker on and off), the
attention items (critical and high issues, high and critical risks, stale items), a snapshot
part per log with its Markdown, all read from the record's logs slice. And the account
sections computed from that slice agree with the log pages' own queries."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from handoff.common.services import ANY_VERSION
from handoff.record import account_record_get
from handoff.registry import AttentionItem
from logs.contribution import (
    attention_issues,
    attention_risks,
    attention_stale,
    issues_context,
    notes_context,
    opportunities_context,
    risks_context,
    rule_expansion_transitioned,
    rule_no_open_critical_issue,
    rule_risks_have_response_plans,
)
from logs.models import ExpansionOpportunity, Issue, Risk
from logs.scoring import band_score_range
from logs.selectors import (
    OPEN_FILTER,
    issue_list,
    journal_entry_list,
    opportunity_list,
    risk_list,
)
from logs.services import (
    issue_create,
    issue_status_change,
    journal_entry_create,
    journal_entry_update,
    opportunity_create,
    opportunity_stage_change,
    risk_create,
    risk_mark_occurred,
    risk_status_change,
    risk_update,
)
from logs.snapshot import (
    markdown_issues,
    markdown_notes,
    markdown_opportunities,
    markdown_risks,
    snapshot_issues,
    snapshot_notes,
    snapshot_opportunities,
    snapshot_risks,
)
from logs.staleness import issue_stale_q, risk_stale_q, with_score
from tests.factories import AccountFactory
from tests.logs.factories import IssueFactory, JournalEntryFactory, OpportunityFactory, RiskFactory

pytestmark = pytest.mark.django_db


def loaded(account):
    return account_record_get(account.pk, for_snapshot=True)


def titles(rows):
    return [row.title for row in rows]


def make_issue(account, owner, *, severity="medium", title="Slow sync", **kwargs):
    return issue_create(
        account=account, actor=owner, title=title, owner=owner, severity=severity, **kwargs
    )


def make_risk(account, owner, *, likelihood, impact, plan="", title="Disk fills up", **kwargs):
    return risk_create(
        account=account,
        actor=owner,
        title=title,
        description="Because …, … may happen, which would …",
        likelihood=likelihood,
        impact=impact,
        owner=owner,
        response_plan=plan,
        **kwargs,
    )


def backdate(model, obj, days):
    model.objects.filter(pk=obj.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=days)
    )


# --- No open critical issue ----------------------------------------------------------------------
def test_no_open_critical_issue_on_and_off(account, ie):
    assert rule_no_open_critical_issue(loaded(account)) == []
    make_issue(account, ie, severity="high", title="SAML loops")  # high: not a blocker
    issue = make_issue(account, ie, severity="critical", title="Sync failing with 429s")
    (blocker,) = rule_no_open_critical_issue(loaded(account))
    assert (blocker.title, blocker.url) == (
        "Open critical issue I-2: Sync failing with 429s",
        reverse("logs:issue_detail", args=[account.pk, issue.pk]),
    )
    for status in ("in_progress", "blocked"):  # still open
        issue_status_change(issue=issue, actor=ie, status=status)
        assert len(rule_no_open_critical_issue(loaded(account))) == 1
    issue_status_change(issue=issue, actor=ie, status="resolved", resolution="Raised the limit.")
    assert rule_no_open_critical_issue(loaded(account)) == []


def test_another_accounts_critical_issue_is_not_this_accounts_blocker(account, ie):
    make_issue(AccountFactory(), ie, severity="critical")
    assert rule_no_open_critical_issue(loaded(account)) == []


# --- No high or critical risk without a response plan ---------------------------------------------
def test_high_and_critical_risks_need_a_response_plan(account, ie):
    make_risk(account, ie, likelihood=3, impact=3)  # 9, medium: no plan needed
    high = make_risk(account, ie, likelihood=3, impact=4, title="Disk fills up")  # 12, high
    critical = make_risk(account, ie, likelihood=5, impact=4, title="Freeze")  # 20, critical
    blockers = rule_risks_have_response_plans(loaded(account))
    assert [(b.title, b.url) for b in blockers] == [
        (
            "Critical risk R-3 without a response plan: Freeze",
            reverse("logs:risk_edit", args=[account.pk, critical.pk])
            + f"#risk-{critical.pk}-response_plan",
        ),
        (
            "High risk R-2 without a response plan: Disk fills up",
            reverse("logs:risk_edit", args=[account.pk, high.pk])
            + f"#risk-{high.pk}-response_plan",
        ),
    ]
    risk_update(
        risk=high, actor=ie, data={"response_plan": "Add a shard."}, expected_version=ANY_VERSION
    )
    assert titles(rule_risks_have_response_plans(loaded(account))) == [
        "Critical risk R-3 without a response plan: Freeze"
    ]
    risk_status_change(risk=critical, actor=ie, status="monitoring")  # still open
    assert len(rule_risks_have_response_plans(loaded(account))) == 1
    risk_status_change(risk=critical, actor=ie, status="closed")
    assert rule_risks_have_response_plans(loaded(account)) == []


def test_a_risk_that_happened_needs_no_plan_any_more(account, ie):
    risk = make_risk(account, ie, likelihood=5, impact=5)
    risk_mark_occurred(risk=risk, actor=ie)
    assert rule_risks_have_response_plans(loaded(account)) == []


# --- Expansion opportunities transitioned to the TA --------------------------------------------
def test_expansion_opportunities_transitioned_on_and_off(account, ie, ta):
    assert rule_expansion_transitioned(loaded(account)) == []
    opportunity = opportunity_create(account=account, actor=ie, title="Firmware team", owner=ta)
    (blocker,) = rule_expansion_transitioned(loaded(account))
    assert (blocker.title, blocker.url) == (
        "Opportunity not transitioned to the TA: Firmware team",
        reverse("logs:opportunity_detail", args=[account.pk, opportunity.pk]),
    )
    opportunity_stage_change(opportunity=opportunity, actor=ta, stage="transitioned")
    assert rule_expansion_transitioned(loaded(account)) == []
    lost = opportunity_create(account=account, actor=ie, title="Cody pilot", owner=ta)
    assert len(rule_expansion_transitioned(loaded(account))) == 1
    opportunity_stage_change(opportunity=lost, actor=ta, stage="lost")  # decided: not a blocker
    assert rule_expansion_transitioned(loaded(account)) == []


# --- Attention -----------------------------------------------------------------------------------
def test_open_high_issues_are_attention_items_and_critical_ones_blockers_only(account, ie):
    make_issue(account, ie, severity="low", title="Typo")
    high = make_issue(account, ie, severity="high", title="SAML loops")
    make_issue(account, ie, severity="critical", title="Sync failing")
    backdate(Issue, high, 9)
    items = attention_issues(loaded(account))
    # Each cause once: the critical issue is a readiness blocker, named there.
    assert [(i.level, i.title) for i in items] == [
        (AttentionItem.Level.WARNING, "High issue I-2: SAML loops"),
    ]
    assert items[0].detail.startswith(f"Open, owner {ie}, open 0 days. Update due:")
    assert items[0].url == high.get_absolute_url()
    assert titles(rule_no_open_critical_issue(loaded(account))) == [
        "Open critical issue I-3: Sync failing"
    ]
    issue_status_change(issue=high, actor=ie, status="closed", resolution="Gone.")
    assert attention_issues(loaded(account)) == []


def test_high_and_critical_risks_with_a_plan_are_attention_items(account, ie):
    make_risk(account, ie, likelihood=2, impact=2, title="Low one")
    make_risk(account, ie, likelihood=2, impact=5, plan="Alert early.", title="Token leak")  # 10
    critical = make_risk(account, ie, likelihood=5, impact=5, plan="Roll back.", title="Freeze")
    make_risk(account, ie, likelihood=5, impact=4, title="No plan")  # a blocker, named there
    items = attention_risks(loaded(account))
    assert [(i.level, i.title, i.detail) for i in items] == [
        (
            AttentionItem.Level.CRITICAL,
            "Critical risk R-3: Freeze",
            f"Score 25 (likelihood 5 × impact 5), open, owner {ie}.",
        ),
        (
            AttentionItem.Level.WARNING,
            "High risk R-2: Token leak",
            f"Score 10 (likelihood 2 × impact 5), open, owner {ie}.",
        ),
    ]
    assert items[0].url == critical.get_absolute_url()
    risk_status_change(risk=critical, actor=ie, status="closed")
    assert titles(attention_risks(loaded(account))) == ["High risk R-2: Token leak"]


def test_stale_items_below_high_are_attention_items_of_their_own(account, ie):
    low = make_issue(account, ie, severity="low", title="Typo in the banner")
    make_issue(account, ie, severity="medium", title="Fresh")
    medium_risk = make_risk(account, ie, likelihood=3, impact=3, title="Adoption")  # 9
    overdue = make_risk(
        account,
        ie,
        likelihood=1,
        impact=2,
        title="Wiki links",
        next_review_date=timezone.localdate() - datetime.timedelta(days=1),
    )
    high = make_issue(account, ie, severity="high", title="Listed above already")
    assert titles(attention_stale(loaded(account))) == ["Update due: risk R-2 Wiki links"]
    backdate(Issue, low, 31)
    backdate(Issue, high, 30)
    backdate(Risk, medium_risk, 31)
    items = attention_stale(loaded(account))
    assert [(i.level, i.title, i.url) for i in items] == [
        (
            AttentionItem.Level.INFO,
            "Update due: issue I-1 Typo in the banner",
            low.get_absolute_url(),
        ),
        (
            AttentionItem.Level.INFO,
            "Update due: risk R-1 Adoption",
            medium_risk.get_absolute_url(),
        ),
        (AttentionItem.Level.INFO, "Update due: risk R-2 Wiki links", overdue.get_absolute_url()),
    ]
    assert items[0].detail == "No update for 31 days; low issues want one every 30 days."
    # The high issue says it in its own item.
    assert "Update due" in attention_issues(loaded(account))[0].detail


def test_the_account_page_names_each_cause_once_critical_first(client_for, account, ie, ta):
    make_issue(account, ie, severity="high", title="SAML loops")
    make_issue(account, ie, severity="critical", title="Sync failing")
    make_risk(account, ie, likelihood=4, impact=4, title="Freeze")
    make_risk(account, ie, likelihood=5, impact=5, plan="Roll back.", title="Outage")
    page = client_for(ta).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    top = page.split('id="overview"')[1].split("</section>")[0]
    readiness, items = top.split('id="attention"')
    assert "Open critical issue I-2: Sync failing" in readiness  # the blockers
    assert "Critical risk R-1 without a response plan: Freeze" in readiness
    assert "Sync failing" not in items and "Freeze" not in items  # not twice
    assert items.index("Critical risk R-2: Outage") < items.index("High issue I-1: SAML loops")


# --- Snapshot sections ---------------------------------------------------------------------------
def test_snapshot_of_the_four_logs_is_json_safe_with_labels(account, ie, ta):
    entry = journal_entry_create(
        account=account,
        author=ie,
        title="Rockskip enabled",
        body="For **acme/firmware**.",
        category="special_deployment",
        kind="success",
        reference_url="https://docs.example.com/rockskip",
    )
    journal_entry_update(
        entry=entry, actor=ie, data={"body": "For `acme/firmware`."}, expected_version=ANY_VERSION
    )
    issue = make_issue(
        account,
        ie,
        severity="high",
        title="SAML loops",
        description="5% of users loop.",
        target_date=datetime.date(2027, 3, 1),
        external_ticket_url="https://tickets.example.com/1",
    )
    risk = make_risk(account, ie, likelihood=5, impact=4, plan="Book the CAB.", title="Freeze")
    raised = risk_mark_occurred(risk=risk, actor=ie)
    opportunity = opportunity_create(
        account=account,
        actor=ie,
        title="Firmware team",
        owner=ta,
        estimated_additional_users=400,
        signal="Asked for a demo.",
    )
    opportunity_stage_change(opportunity=opportunity, actor=ta, stage="transitioned")
    current = loaded(account)
    sections = {
        "notes": snapshot_notes(current),
        "issues": snapshot_issues(current),
        "risks": snapshot_risks(current),
        "opportunities": snapshot_opportunities(current),
    }
    assert json.loads(json.dumps(sections)) == sections
    (note,) = sections["notes"]
    assert note | {"created_at": None} == {
        "title": "Rockskip enabled",
        "category": "Special deployment details",
        "kind": "Success",
        "author": str(ie),
        "created_at": None,
        "edited": True,
        "notes": "For `acme/firmware`.",
        "reference_url": "https://docs.example.com/rockskip",
    }
    assert note["created_at"] == entry.created_at.isoformat()
    # Open first, the most severe on top: the issue the risk raised, then the SAML one.
    assert [(i["reference"], i["severity"], i["from_risk"]) for i in sections["issues"]] == [
        ("I-2", "Critical", "R-1"),
        ("I-1", "High", None),
    ]
    saml = next(i for i in sections["issues"] if i["reference"] == "I-1")
    assert saml | {"raised_at": None} == {
        "reference": "I-1",
        "title": "SAML loops",
        "severity": "High",
        "status": "Open",
        "owner": str(ie),
        "raised_by": str(ie),
        "raised_at": None,
        "target_date": "2027-03-01",
        "external_ticket_url": "https://tickets.example.com/1",
        "description": "5% of users loop.",
        "resolution": "",
        "resolved_on": None,
        "from_risk": None,
    }
    assert saml["raised_at"] == issue.raised_at.isoformat()
    (risk_data,) = sections["risks"]
    assert risk_data == {
        "reference": "R-1",
        "title": "Freeze",
        "description": "Because …, … may happen, which would …",
        "category": "Other",
        "likelihood": "5 – Almost certain",
        "impact": "4 – Major",
        "score": 20,
        "band": "Critical",
        "trigger": "",
        "response_strategy": "Mitigate",
        "response_plan": "Book the CAB.",
        "owner": str(ie),
        "status": "Occurred",
        "next_review_date": None,
        "issue_raised": raised.reference,
    }
    (opportunity_data,) = sections["opportunities"]
    opportunity.refresh_from_db()
    assert opportunity_data == {
        "title": "Firmware team",
        "type": "User expansion",
        "stage": "Transitioned to TA",
        "owner": str(ta),
        "identified_by": str(ie),
        "description": "",
        "signal": "Asked for a demo.",
        "estimated_additional_users": 400,
        "transitioned_at": opportunity.transitioned_at.isoformat(),
    }


def test_the_hooks_read_the_record_and_cost_no_query(
    account, ie, ta, manager, django_assert_num_queries
):
    fill(account, [ie, ta, manager], 30)
    current = loaded(account)
    hooks = [
        rule_no_open_critical_issue,
        rule_risks_have_response_plans,
        rule_expansion_transitioned,
        attention_issues,
        attention_risks,
        attention_stale,
        snapshot_notes,
        snapshot_issues,
        snapshot_risks,
        snapshot_opportunities,
    ]
    with django_assert_num_queries(0):
        for hook in hooks:
            hook(current)


# --- The account sections: from the record as the log pages show them ---------------------------
def fill(account, people, size):
    """`size` rows in every log: every status, severity, stage and score, some stale."""
    now = timezone.now()
    for n in range(size):
        owner = people[n % len(people)]
        JournalEntryFactory(account=account, author=owner)
        issue = IssueFactory(
            account=account,
            owner=owner,
            severity=["critical", "high", "medium", "low"][n % 4],
            status=["open", "in_progress", "blocked", "resolved", "closed"][n % 5],
            resolution="done",
        )
        risk = RiskFactory(
            account=account,
            owner=owner,
            likelihood=n % 5 + 1,
            impact=(n // 5) % 5 + 1,
            status=["open", "monitoring", "closed"][n % 3],
            response_plan="" if n % 2 else "A plan.",
        )
        OpportunityFactory(
            account=account, owner=owner, stage=list(ExpansionOpportunity.Stage)[n % 5]
        )
        if n % 3 == 0:  # stale
            Issue.objects.filter(pk=issue.pk).update(
                updated_at=now - datetime.timedelta(days=n + 3)
            )
            Risk.objects.filter(pk=risk.pk).update(updated_at=now - datetime.timedelta(days=n + 7))


def test_sections_from_the_record_agree_with_the_log_pages_and_counts(
    account, ie, ta, manager, django_assert_num_queries
):
    fill(account, [ie, ta, manager], 40)
    record = account_record_get(account.pk)
    with django_assert_num_queries(0):
        notes = notes_context(record, ie)
        issues = issues_context(record, ie)
        risks = risks_context(record, ie)
        opportunities = opportunities_context(record, ie)
    # The first rows, as each log's own page lists them.
    assert notes["entries"] == list(journal_entry_list(account_id=account.pk)[:3])
    assert issues["issues"] == list(issue_list(account_id=account.pk, status=OPEN_FILTER)[:5])
    assert risks["risks"] == list(risk_list(account_id=account.pk, status=OPEN_FILTER)[:5])
    assert opportunities["opportunities"] == list(
        opportunity_list(account_id=account.pk, stage=OPEN_FILTER)[:5]
    )
    # The counts, as the database counts them (staleness by the SQL rule the digest uses).
    now = timezone.now()
    open_issues = Issue.objects.filter(account=account, status__in=Issue.OPEN_STATUSES)
    assert notes["total"] == 40
    assert issues["summary"] == {
        "total": 40,
        "open": open_issues.count(),
        "critical": open_issues.filter(severity=Issue.Severity.CRITICAL).count(),
        "stale": Issue.objects.filter(issue_stale_q(now=now), account=account).count(),
    }
    high_from, _ = band_score_range(Risk.Band.HIGH)
    open_risks = [r for r in Risk.objects.filter(account=account) if r.is_open]
    assert risks["summary"] == {
        "total": 40,
        "open": len(open_risks),
        "high": sum(1 for r in open_risks if r.likelihood * r.impact >= high_from),
        "stale": with_score(Risk.objects.filter(account=account))
        .filter(risk_stale_q(now=now))
        .count(),
    }
    assert issues["summary"]["stale"] > 0 and risks["summary"]["stale"] > 0
    active = ExpansionOpportunity.objects.filter(
        account=account, stage__in=ExpansionOpportunity.ACTIVE_STAGES
    )
    assert opportunities["summary"] == {
        "total": 40,
        "active": active.count(),
        "won": ExpansionOpportunity.objects.filter(account=account, stage="won").count(),
    }


# --- Markdown ------------------------------------------------------------------------------------
NOTE = {
    "title": "Upper limits <agreed>",
    "category": "Upper limits discussed",
    "kind": "Info",
    "author": "Irene Ekwueme",
    "created_at": "2027-02-01T09:00:00+00:00",
    "edited": True,
    "notes": "Sized for **1,200 users**.\n\n- Largest: `acme/firmware`\n# [x](javascript:y)",
    "reference_url": "https://docs.example.com/limits",
}


def test_notes_markdown_quotes_the_text_as_typed():
    assert markdown_notes([NOTE]) == (
        "**Upper limits \\<agreed\\>** (Upper limits discussed, Info): Irene Ekwueme, "
        "2027-02-01 09:00 UTC (edited). Reference: <https://docs.example.com/limits>\n\n"
        "> Sized for \\*\\*1,200 users\\*\\*.\n>\n> - Largest: \\`acme/firmware\\`\n"
        "> \\# \\[x\\](javascript:y)"
    )
    assert markdown_notes([]) == "No implementation notes."


ISSUE = {
    "reference": "I-4",
    "title": "Sync | failing",
    "severity": "Critical",
    "status": "Resolved",
    "owner": "Irene Ekwueme",
    "raised_by": "Irene Ekwueme",
    "raised_at": "2027-02-01T09:00:00+00:00",
    "target_date": "2027-02-05",
    "external_ticket_url": "https://tickets.example.com/4",
    "description": "Rate limited\nevery hour",
    "resolution": "Raised the limit",
    "resolved_on": "2027-02-03",
    "from_risk": "R-2",
}


def test_issues_markdown():
    assert markdown_issues([ISSUE, ISSUE | {"status": "Open", "resolved_on": None}]) == (
        "1 open of 2.\n\n"
        "| No. | Issue | Severity | Status | Owner | Raised | Target date | Ticket | Details |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
        "| I-4 | Sync \\| failing | Critical | Resolved 2027-02-03 | Irene Ekwueme | "
        "2027-02-01 09:00 UTC | 2027-02-05 | <https://tickets.example.com/4> | Rate limited every "
        "hour. Resolution: Raised the limit. Raised from risk: R-2. |\n"
        "| I-4 | Sync \\| failing | Critical | Open | Irene Ekwueme | 2027-02-01 09:00 UTC | "
        "2027-02-05 | <https://tickets.example.com/4> | Rate limited every hour. Resolution: "
        "Raised the limit. Raised from risk: R-2. |"
    )
    assert markdown_issues([]) == "No issues recorded."


def test_risks_markdown():
    risk = {
        "reference": "R-2",
        "title": "Freeze",
        "description": "Because of the freeze, cut-over may slip.",
        "category": "Schedule and resourcing",
        "likelihood": "5 – Almost certain",
        "impact": "4 – Major",
        "score": 20,
        "band": "Critical",
        "trigger": "",
        "response_strategy": "Avoid",
        "response_plan": "",
        "owner": "Irene Ekwueme",
        "status": "Open",
        "next_review_date": "2027-02-08",
        "issue_raised": None,
    }
    assert markdown_risks([risk]) == (
        "| No. | Risk | Band (score) | Status | Owner | Next review | Response | Details |\n"
        "|---|---|---|---|---|---|---|---|\n"
        "| R-2 | Freeze | Critical (20) | Open | Irene Ekwueme | 2027-02-08 | Avoid: no plan | "
        "Because of the freeze, cut-over may slip. Likelihood: 5 – Almost certain. Impact: 4 – "
        "Major. Category: Schedule and resourcing. |"
    )
    assert "| Avoid: File the CAB. |" in markdown_risks([risk | {"response_plan": "File the CAB."}])
    assert markdown_risks([]) == "No risks recorded."


def test_opportunities_markdown():
    opportunity = {
        "title": "Firmware team",
        "type": "User expansion",
        "stage": "Transitioned to TA",
        "owner": "Tomas Alvarez",
        "identified_by": "Irene Ekwueme",
        "description": "",
        "signal": "Asked for a demo",
        "estimated_additional_users": 1400,
        "transitioned_at": "2027-02-01T09:00:00+00:00",
    }
    assert markdown_opportunities([opportunity]) == (
        "| Opportunity | Type | Stage | Owner | Est. additional users | Transitioned to TA | "
        "Details |\n|---|---|---|---|---|---|---|\n"
        "| Firmware team | User expansion | Transitioned to TA | Tomas Alvarez | 1,400 | "
        "2027-02-01 09:00 UTC | Signal: Asked for a demo. |"
    )
    assert markdown_opportunities([]) == "No expansion opportunities recorded."
