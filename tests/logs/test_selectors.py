"""Reads: the LogCounts contract the Vitally sync uses, the heatmap and the overview."""

import dataclasses

import pytest

from logs.selectors import (
    LogCounts,
    issue_overview_list,
    log_counts,
    logs_record_get,
    open_risk_list,
    risk_heatmap_get,
)
from tests.factories import AccountFactory, UserFactory
from tests.logs.factories import IssueFactory, RiskFactory

pytestmark = pytest.mark.django_db


def test_log_counts_is_the_agreed_frozen_dataclass():
    assert [f.name for f in dataclasses.fields(LogCounts)] == ["open_issues", "open_high_risks"]
    counts = LogCounts(open_issues=1, open_high_risks=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        counts.open_issues = 3


def test_log_counts_counts_open_issues_and_open_high_or_critical_risks(account):
    for status in ("open", "in_progress", "blocked"):
        IssueFactory(account=account, status=status)
    for status in ("resolved", "closed"):
        IssueFactory(account=account, status=status, resolution="done")
    # Open or monitoring, band high (10–15) or critical (16–25): counted.
    RiskFactory(account=account, likelihood=2, impact=5)  # 10, high
    RiskFactory(account=account, likelihood=3, impact=5, status="monitoring")  # 15, high
    RiskFactory(account=account, likelihood=5, impact=5)  # 25, critical
    # Not counted: medium band, or no longer open.
    RiskFactory(account=account, likelihood=3, impact=3)  # 9, medium
    RiskFactory(account=account, likelihood=5, impact=5, status="closed")
    RiskFactory(account=account, likelihood=5, impact=5, status="occurred")
    # Another account's log is not this account's.
    other = AccountFactory()
    IssueFactory(account=other)
    RiskFactory(account=other, likelihood=5, impact=5)

    assert counts_of(account.pk) == LogCounts(open_issues=3, open_high_risks=3)
    assert counts_of(other.pk) == LogCounts(open_issues=1, open_high_risks=1)


def counts_of(account_id):
    return log_counts(logs_record_get(account_id=account_id))


@pytest.mark.parametrize("size", [0, 1, 150])
def test_the_logs_slice_costs_four_queries_at_any_size(account, size, django_assert_num_queries):
    for n in range(size):
        IssueFactory(account=account)
        RiskFactory(account=account, likelihood=n % 5 + 1, impact=5)
    with django_assert_num_queries(4):  # the newest notes with their total, issues, risks, opps
        logs = logs_record_get(account_id=account.pk)
    with django_assert_num_queries(0):
        counts = log_counts(logs)
    assert counts.open_issues == size
    assert counts.open_high_risks == sum(1 for n in range(size) if (n % 5 + 1) * 5 >= 10)


def test_log_counts_of_an_account_without_logs_is_zero():
    assert counts_of(987654) == LogCounts(open_issues=0, open_high_risks=0)


def test_the_heatmap_counts_open_risks_per_cell_and_filters_by_people():
    ta, other_ta, ie = (UserFactory(username=u) for u in ("ta1", "ta2", "ie1"))
    mine = AccountFactory(technical_advisor=ta, implementation_engineer=ie)
    theirs = AccountFactory(technical_advisor=other_ta)
    RiskFactory(account=mine, likelihood=4, impact=5)
    RiskFactory(account=mine, likelihood=4, impact=5, status="monitoring")
    RiskFactory(account=theirs, likelihood=4, impact=5)
    RiskFactory(account=theirs, likelihood=1, impact=1)
    RiskFactory(account=mine, likelihood=2, impact=2, status="closed")  # not open: not shown

    grid = risk_heatmap_get()
    assert [row.likelihood for row in grid] == [5, 4, 3, 2, 1]
    assert [cell.impact for cell in grid[0].cells] == [1, 2, 3, 4, 5]
    counts = {(c.likelihood, c.impact): c.count for row in grid for c in row.cells}
    assert counts[(4, 5)] == 3 and counts[(1, 1)] == 1 and counts[(2, 2)] == 0
    assert sum(counts.values()) == 4
    cell = grid[1].cells[4]
    assert (cell.score, cell.band) == (20, "critical")

    by_ta = {
        (c.likelihood, c.impact): c.count
        for row in risk_heatmap_get(technical_advisor_id=ta.pk)
        for c in row.cells
    }
    assert by_ta[(4, 5)] == 2 and sum(by_ta.values()) == 2
    by_ie = risk_heatmap_get(implementation_engineer_id=ie.pk)
    assert sum(c.count for row in by_ie for c in row.cells) == 2
    assert [
        r.account for r in open_risk_list(likelihood=4, impact=5, technical_advisor_id=other_ta.pk)
    ] == [theirs]


def test_open_issues_across_accounts_most_severe_first():
    ta = UserFactory(username="ta1")
    acme = AccountFactory(name="Acme", technical_advisor=ta)
    other = AccountFactory(name="Other")
    IssueFactory(account=acme, title="Low", severity="low")
    IssueFactory(account=other, title="Critical elsewhere", severity="critical")
    IssueFactory(account=acme, title="Critical", severity="critical")
    IssueFactory(account=acme, title="Done", severity="critical", status="resolved", resolution="x")
    assert [i.title for i in issue_overview_list()] == ["Critical elsewhere", "Critical", "Low"]
    assert [i.title for i in issue_overview_list(technical_advisor_id=ta.pk)] == ["Critical", "Low"]
    assert [i.title for i in issue_overview_list(severity="low")] == ["Low"]


def test_journal_latest_get_gives_the_newest_notes_and_the_total_in_one_query(
    account, django_assert_num_queries
):
    from logs.selectors import journal_latest_get
    from tests.logs.factories import JournalEntryFactory

    notes = [JournalEntryFactory(account=account, title=f"Note {n}") for n in range(5)]
    JournalEntryFactory()  # another account's
    with django_assert_num_queries(1):
        latest, total = journal_latest_get(account_id=account.pk, limit=3)
        assert [n.title for n in latest] == ["Note 4", "Note 3", "Note 2"]
        assert latest[0].author == notes[4].author  # joined, no more query
    assert total == 5
    assert journal_latest_get(account_id=AccountFactory().pk, limit=3) == ([], 0)
