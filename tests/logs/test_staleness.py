"""When an open issue or risk is stale; the Python rule and the database rule agree."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from handoff.settings import _stale_days
from logs.models import Issue, Risk
from logs.staleness import issue_stale_q, issue_stale_reason, risk_stale_q, with_score
from tests.logs.factories import IssueFactory, RiskFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def _age(model, obj, age: datetime.timedelta):
    model.objects.filter(pk=obj.pk).update(updated_at=timezone.now() - age)
    obj.refresh_from_db()
    return obj


def _db_stale_issue(issue) -> bool:
    return Issue.objects.filter(issue_stale_q(now=timezone.now()), pk=issue.pk).exists()


def _db_stale_risk(risk) -> bool:
    return with_score(Risk.objects.filter(pk=risk.pk)).filter(risk_stale_q(now=timezone.now()))


# Default days (settings): critical 3, high 7, medium 14, low 30.
@pytest.mark.parametrize(
    "severity, days", [("critical", 3), ("high", 7), ("medium", 14), ("low", 30)]
)
def test_an_issue_goes_stale_after_its_severitys_days(severity, days):
    fresh = _age(Issue, IssueFactory(severity=severity), days * DAY - HOUR)
    stale = _age(Issue, IssueFactory(severity=severity), days * DAY + HOUR)
    assert not fresh.stale_reason and not _db_stale_issue(fresh)
    assert stale.stale_reason.startswith(f"No update for {days} days")
    assert f"{severity} issues want one every {days} days" in stale.stale_reason
    assert _db_stale_issue(stale)


def test_higher_severity_goes_stale_sooner():
    five_days = 5 * DAY
    critical = _age(Issue, IssueFactory(severity="critical"), five_days)
    low = _age(Issue, IssueFactory(severity="low"), five_days)
    assert critical.stale_reason and not low.stale_reason


@pytest.mark.parametrize("status", ["open", "in_progress", "blocked"])
def test_every_open_status_can_be_stale(status):
    issue = _age(Issue, IssueFactory(severity="high", status=status), 30 * DAY)
    assert issue.stale_reason and _db_stale_issue(issue)


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_a_done_issue_is_never_stale(status):
    issue = _age(Issue, IssueFactory(status=status, resolution="Fixed."), 400 * DAY)
    assert not issue.stale_reason and not _db_stale_issue(issue)


# Risks by band (critical 7, high 14, medium 30, low 60).
@pytest.mark.parametrize(
    "likelihood, impact, days", [(4, 5, 7), (3, 4, 14), (3, 3, 30), (1, 2, 60)]
)
def test_a_risk_goes_stale_after_its_bands_days(likelihood, impact, days):
    values = {"likelihood": likelihood, "impact": impact}
    fresh = _age(Risk, RiskFactory(**values), days * DAY - HOUR)
    stale = _age(Risk, RiskFactory(**values), days * DAY + HOUR)
    assert not fresh.stale_reason and not _db_stale_risk(fresh)
    assert stale.stale_reason.startswith(f"No update for {days} days")
    assert _db_stale_risk(stale)


def test_a_risk_past_its_next_review_date_is_stale_even_if_updated_today():
    yesterday = timezone.localdate() - DAY
    risk = RiskFactory(next_review_date=yesterday)
    assert "next review date" in risk.stale_reason
    assert _db_stale_risk(risk)
    today = RiskFactory(next_review_date=timezone.localdate())
    assert not today.stale_reason and not _db_stale_risk(today)


@pytest.mark.parametrize(
    "status, stale", [("open", True), ("monitoring", True), ("occurred", False), ("closed", False)]
)
def test_only_open_and_monitored_risks_go_stale(status, stale):
    risk = _age(
        Risk, RiskFactory(status=status, next_review_date=timezone.localdate() - DAY), 99 * DAY
    )
    assert bool(risk.stale_reason) is stale
    assert bool(_db_stale_risk(risk)) is stale


def test_the_days_come_from_settings(settings):
    issue = _age(Issue, IssueFactory(severity="low"), 3 * DAY)
    assert not issue.stale_reason
    settings.LOGS_STALE_ISSUE_DAYS = {**settings.LOGS_STALE_ISSUE_DAYS, "low": 2}
    assert issue_stale_reason(issue, now=timezone.now())
    assert _db_stale_issue(issue)


def test_the_environment_overrides_some_days_and_keeps_the_rest(monkeypatch):
    default = {"critical": 3, "high": 7, "medium": 14, "low": 30}
    monkeypatch.setenv("LOGS_STALE_ISSUE_DAYS", "critical=1,low=60")
    assert _stale_days("LOGS_STALE_ISSUE_DAYS", default) == {
        "critical": 1,
        "high": 7,
        "medium": 14,
        "low": 60,
    }
    for bad in ("urgent=2", "high=0", "high=soon", "high"):
        monkeypatch.setenv("LOGS_STALE_ISSUE_DAYS", bad)
        with pytest.raises(ImproperlyConfigured):
            _stale_days("LOGS_STALE_ISSUE_DAYS", default)


def test_the_database_rule_matches_the_python_rule_on_a_mixed_log():
    now = timezone.now()
    issues = [
        _age(Issue, IssueFactory(severity=severity, status=status, resolution="r"), days * DAY)
        for severity in Issue.Severity
        for status in Issue.Status
        for days in (1, 4, 8, 15, 31)
    ]
    risks = [
        _age(Risk, RiskFactory(likelihood=li, impact=im, status=status), days * DAY)
        for li, im in [(1, 1), (2, 3), (3, 4), (5, 5)]
        for status in ("open", "monitoring", "closed")
        for days in (1, 8, 15, 31, 61)
    ]
    db_issues = set(Issue.objects.filter(issue_stale_q(now=now)).values_list("pk", flat=True))
    db_risks = set(
        with_score(Risk.objects.all()).filter(risk_stale_q(now=now)).values_list("pk", flat=True)
    )
    assert db_issues == {i.pk for i in issues if i.stale_reason}
    assert db_risks == {r.pk for r in risks if r.stale_reason}
    assert db_issues and db_risks  # the mix has stale and fresh rows
    assert len(db_issues) < len(issues) and len(db_risks) < len(risks)
