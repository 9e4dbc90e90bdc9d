import pytest
from django.core.management import call_command
from django.utils import timezone

from handoff.audit.models import AuditEvent
from logs.models import ExpansionOpportunity, Issue, JournalEntry, Risk
from logs.staleness import issue_stale_q, risk_stale_q, with_score

pytestmark = pytest.mark.django_db


def _counts():
    return [
        m.objects.count() for m in (JournalEntry, Issue, Risk, ExpansionOpportunity, AuditEvent)
    ]


def test_seed_demo_gives_the_accounts_realistic_logs_once():
    call_command("seed_demo")
    counts = _counts()
    call_command("seed_demo")
    assert _counts() == counts  # idempotent

    now = timezone.now()
    assert JournalEntry.objects.values("category").distinct().count() == 5
    assert Issue.objects.filter(severity="critical", status__in=Issue.OPEN_STATUSES).exists()
    assert Issue.objects.filter(issue_stale_q(now=now)).count() >= 3
    assert with_score(Risk.objects.all()).filter(risk_stale_q(now=now)).exists()
    cells = {(r.likelihood, r.impact) for r in Risk.objects.filter(status__in=Risk.OPEN_STATUSES)}
    assert len(cells) >= 10  # spread over the heatmap
    bands = {r.band for r in Risk.objects.filter(status__in=Risk.OPEN_STATUSES)}
    assert bands == set(Risk.Band)
    assert set(ExpansionOpportunity.objects.values_list("stage", flat=True)) == set(
        ExpansionOpportunity.Stage
    )
    occurred = Risk.objects.get(status="occurred")
    assert occurred.issue.source_risk == occurred
    # Written through the services: every record has its audit trail.
    assert AuditEvent.objects.filter(object_type="logs.issue").count() >= Issue.objects.count()
