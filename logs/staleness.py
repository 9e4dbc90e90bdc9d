"""When an open Issues Log or Risk Log item counts as stale ("filled at kickoff, forgotten by
week three"): not updated within the days set per severity / band (settings
LOGS_STALE_ISSUE_DAYS, LOGS_STALE_RISK_DAYS), or, for a risk, past its next review date.

The same rule is written twice on purpose: as Python for a row already loaded (flags on a page,
no query) and as a Q for the database (counts, the digest). Tests hold the two together."""

import datetime

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format

from logs.models import Issue, Risk
from logs.scoring import BANDS, risk_band


def issue_stale_days(severity: str) -> int:
    return settings.LOGS_STALE_ISSUE_DAYS[severity]


def risk_stale_days(band: str) -> int:
    return settings.LOGS_STALE_RISK_DAYS[band]


def _days_ago(moment: datetime.datetime, now: datetime.datetime) -> int:
    return (now - moment).days


def issue_stale_reason(issue: Issue, *, now: datetime.datetime) -> str:
    """Why the issue is stale, or "" when it is not."""
    if not issue.is_open:
        return ""
    days = issue_stale_days(issue.severity)
    if issue.updated_at and issue.updated_at < now - datetime.timedelta(days=days):
        return (
            f"No update for {_days_ago(issue.updated_at, now)} days; "
            f"{issue.get_severity_display().lower()} issues want one every {days} days."
        )
    return ""


def risk_stale_reason(risk: Risk, *, now: datetime.datetime) -> str:
    if not risk.is_open:
        return ""
    today = timezone.localdate(now)
    if risk.next_review_date and risk.next_review_date < today:
        return f"The next review date ({date_format(risk.next_review_date, 'j M Y')}) has passed."
    band = risk_band(risk.score)
    days = risk_stale_days(band)
    if risk.updated_at and risk.updated_at < now - datetime.timedelta(days=days):
        return (
            f"No update for {_days_ago(risk.updated_at, now)} days; "
            f"{band.label.lower()} risks want one every {days} days."
        )
    return ""


def issue_stale_q(*, now: datetime.datetime) -> Q:
    """Open issues whose last update is older than their severity allows."""
    by_severity = Q()
    for severity in Issue.Severity:
        cutoff = now - datetime.timedelta(days=issue_stale_days(severity))
        by_severity |= Q(severity=severity, updated_at__lt=cutoff)
    return Q(status__in=Issue.OPEN_STATUSES) & by_severity


def risk_stale_q(*, now: datetime.datetime) -> Q:
    """Open risks past their review date, or not updated within their band's days.

    Needs the queryset aliased with `with_score` (score = likelihood × impact)."""
    today = timezone.localdate(now)
    by_band = Q(next_review_date__lt=today)
    for band, low, high in BANDS:
        cutoff = now - datetime.timedelta(days=risk_stale_days(band))
        by_band |= Q(risk_score__gte=low, risk_score__lte=high, updated_at__lt=cutoff)
    return Q(status__in=Risk.OPEN_STATUSES) & by_band


def with_score(queryset):
    """Alias score = likelihood × impact for filtering by band in the database."""
    return queryset.alias(risk_score=F("likelihood") * F("impact"))
