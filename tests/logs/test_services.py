"""The logs' write services: audit events, change version, numbering, rules."""

import datetime
import functools
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from handoff.common.services import ANY_VERSION, ConcurrentEditError, MissingVersionError
from logs.models import ExpansionOpportunity, Issue, IssueNote, JournalEntry, Risk
from logs.services import (
    RiskAlreadyOccurred,
    issue_create,
    issue_note_add,
    issue_status_change,
    issue_update,
    journal_entry_create,
    journal_entry_update,
    opportunity_create,
    opportunity_stage_change,
    opportunity_update,
    risk_create,
    risk_mark_occurred,
    risk_status_change,
    risk_update,
)
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def _change_version(account) -> int:
    return Account.objects.get(pk=account.pk).change_version


def _risk(account, owner, **overrides):
    values = {
        "title": "Monorepo growth outpaces gitserver disk",
        "description": "Because the monorepo grows, the disk may fill, which would stop clones.",
        "likelihood": 4,
        "impact": 5,
        "owner": owner,
    }
    return risk_create(account=account, actor=owner, **{**values, **overrides})


# --- Implementation notes --------------------------------------------------------------------
def test_journal_entry_create_sets_author_and_records_the_note(account, ta):
    before = _change_version(account)
    entry = journal_entry_create(
        account=account,
        author=ta,
        title="  Rockskip enabled  ",
        body="Symbol search uses **Rockskip**.",
        category=JournalEntry.Category.SPECIAL_DEPLOYMENT,
        kind=JournalEntry.Kind.WARNING,
        reference_url="https://github.com/sourcegraph/sourcegraph/pull/1",
    )
    assert entry.title == "Rockskip enabled"
    assert entry.author == ta
    assert entry.created_at is not None
    event = AuditEvent.objects.get(object_type="logs.journalentry")
    assert event.action == AuditEvent.Kind.CREATE
    assert event.account_id == account.pk
    assert event.change_for("category")["after"] == "Special deployment details"
    assert event.change_for("body")["after"] == "Symbol search uses **Rockskip**."
    assert _change_version(account) == before + 1


def test_editing_a_note_keeps_the_earlier_text_in_history(account, ie):
    entry = journal_entry_create(account=account, author=ie, title="Limits", body="1,000 users")
    journal_entry_update(
        entry=entry, actor=ie, data={"title": "Limits", "body": "1,200 users"}, expected_version=1
    )
    entry.refresh_from_db()
    assert entry.body == "1,200 users"
    assert entry.version == 2 and entry.edited
    event = AuditEvent.objects.get(object_type="logs.journalentry", action="update")
    assert event.changes == [
        {"field": "body", "label": "Notes", "before": "1,000 users", "after": "1,200 users"}
    ]


def test_a_note_edited_from_a_stale_form_is_refused(account, ie, ta):
    entry = journal_entry_create(account=account, author=ie, title="Limits", body="one")
    journal_entry_update(entry=entry, actor=ie, data={"body": "two"}, expected_version=1)
    with pytest.raises(ConcurrentEditError):
        journal_entry_update(entry=entry, actor=ta, data={"body": "three"}, expected_version=1)
    entry.refresh_from_db()
    assert entry.body == "two"


@pytest.mark.parametrize(
    "field, value",
    [("title", ""), ("body", "   "), ("reference_url", "javascript:alert(1)"), ("kind", "x")],
)
def test_journal_entry_create_rejects_bad_input(account, ie, field, value):
    data = {"title": "T", "body": "B", field: value}
    with pytest.raises(ValidationError) as error:
        journal_entry_create(account=account, author=ie, **data)
    assert field in error.value.message_dict
    assert not JournalEntry.objects.exists()
    assert not AuditEvent.objects.exists()


# --- Issues Log ------------------------------------------------------------------------------
def test_issues_are_numbered_per_account(account, ie):
    other = AccountFactory()
    first = issue_create(account=account, actor=ie, title="One", owner=ie)
    second = issue_create(account=account, actor=ie, title="Two", owner=ie)
    elsewhere = issue_create(account=other, actor=ie, title="Other", owner=ie)
    assert [first.reference, second.reference, elsewhere.reference] == ["I-1", "I-2", "I-1"]
    assert first.raised_by == ie and first.raised_at is not None


def test_a_failed_create_does_not_use_up_a_number(account, ie):
    with pytest.raises(ValidationError):
        issue_create(account=account, actor=ie, title="", owner=ie)
    assert issue_create(account=account, actor=ie, title="Real", owner=ie).number == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_get_distinct_consecutive_numbers():
    owner = UserFactory(username="owner")
    account = AccountFactory(implementation_engineer=owner)
    barrier = threading.Barrier(6)
    numbers, errors = [], []

    def add(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            issue = issue_create(account=account, actor=owner, title=f"T{index}", owner=owner)
            numbers.append(issue.number)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]


def test_resolving_without_a_resolution_is_refused_and_changes_nothing(account, ie):
    issue = issue_create(account=account, actor=ie, title="SAML loop", owner=ie)
    for status in (Issue.Status.RESOLVED, Issue.Status.CLOSED):
        with pytest.raises(ValidationError) as error:
            issue_status_change(issue=issue, actor=ie, status=status)
        assert "Write the resolution" in error.value.message_dict["resolution"][0]
    issue.refresh_from_db()
    assert issue.status == Issue.Status.OPEN
    assert issue.resolved_on is None
    assert not AuditEvent.objects.filter(action=AuditEvent.Kind.STATUS).exists()


def test_resolving_sets_the_resolved_date_and_reopening_clears_it(account, ie):
    issue = issue_create(account=account, actor=ie, title="SAML loop", owner=ie)
    issue = issue_status_change(
        issue=issue, actor=ie, status=Issue.Status.RESOLVED, resolution="Fixed the ACS URL."
    )
    assert issue.resolved_on == timezone.localdate()
    event = AuditEvent.objects.get(action=AuditEvent.Kind.STATUS)
    assert event.change_for("status") == {
        "field": "status",
        "label": "Status",
        "before": "Open",
        "after": "Resolved",
    }
    assert event.change_for("resolution")["after"] == "Fixed the ACS URL."
    issue = issue_update(
        issue=issue, actor=ie, data={"status": Issue.Status.OPEN}, expected_version=issue.version
    )
    assert issue.resolved_on is None
    assert issue.resolution == "Fixed the ACS URL."  # kept for the record


def test_days_open_counts_until_resolved(account, ie):
    issue = issue_create(account=account, actor=ie, title="Slow", owner=ie)
    ten_days_ago = timezone.now() - datetime.timedelta(days=10)
    Issue.objects.filter(pk=issue.pk).update(raised_at=ten_days_ago)
    issue.refresh_from_db()
    assert issue.days_open == 10
    issue.resolved_on = timezone.localdate() - datetime.timedelta(days=4)
    assert issue.days_open == 6


def test_an_update_note_is_dated_signed_and_restarts_the_staleness_clock(account, ie, ta):
    issue = issue_create(account=account, actor=ie, title="Slow", owner=ie)
    old = timezone.now() - datetime.timedelta(days=20)
    Issue.objects.filter(pk=issue.pk).update(updated_at=old)
    before = _change_version(account)
    note = issue_note_add(issue=issue, actor=ta, body="  Asked the customer for logs.  ")
    assert (note.author, note.body) == (ta, "Asked the customer for logs.")
    issue.refresh_from_db()
    assert issue.updated_at > old + datetime.timedelta(days=19)
    event = AuditEvent.objects.get(action=AuditEvent.Kind.ACTION)
    assert event.message == "Update added to I-1"
    assert _change_version(account) == before + 1
    with pytest.raises(ValidationError):
        issue_note_add(issue=issue, actor=ta, body="   ")
    assert IssueNote.objects.count() == 1


def test_an_inactive_person_cannot_own_an_issue(account, ie):
    gone = UserFactory(username="gone", is_active=False)
    with pytest.raises(ValidationError) as error:
        issue_create(account=account, actor=ie, title="X", owner=gone)
    assert error.value.message_dict["owner"] == ["Choose an active portal user as the owner."]
    assert not Issue.objects.exists()


# --- Risk Log --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "field, value", [("likelihood", 6), ("likelihood", 0), ("impact", 9), ("title", "")]
)
def test_risk_create_rejects_out_of_range_and_missing_values(account, ie, field, value):
    with pytest.raises(ValidationError) as error:
        _risk(account, ie, **{field: value})
    assert field in error.value.message_dict
    assert not Risk.objects.exists()


def test_a_risk_is_numbered_scored_and_recorded(account, ie):
    risk = _risk(account, ie)
    assert (risk.reference, risk.score, risk.band) == ("R-1", 20, Risk.Band.CRITICAL)
    event = AuditEvent.objects.get(object_type="logs.risk")
    assert event.change_for("likelihood")["after"] == "4 – Likely"
    assert event.change_for("impact")["after"] == "5 – Severe"


def test_occurred_is_reached_only_through_it_happened(account, ie):
    risk = _risk(account, ie)
    with pytest.raises(ValidationError):
        risk_status_change(risk=risk, actor=ie, status=Risk.Status.OCCURRED)
    with pytest.raises(ValidationError):
        risk_update(risk=risk, actor=ie, data={"status": "occurred"}, expected_version=1)
    risk.refresh_from_db()
    assert risk.status == Risk.Status.OPEN and risk.issue is None


def test_it_happened_raises_a_linked_issue_in_one_transaction(account, ie, ta):
    risk = _risk(account, ta, response_plan="Add a shard.")
    before = _change_version(account)
    issue = risk_mark_occurred(risk=risk, actor=ie)
    risk.refresh_from_db()
    assert risk.status == Risk.Status.OCCURRED
    assert risk.occurred_at is not None
    assert risk.issue == issue
    assert issue.source_risk == risk  # the link, both ways
    assert (issue.reference, issue.title) == ("I-1", risk.title)
    assert issue.severity == Issue.Severity.CRITICAL  # from the critical band
    assert issue.owner == ta and issue.raised_by == ie
    assert "R-1" in issue.description and "Add a shard." in issue.description
    risk_event = AuditEvent.objects.get(object_type="logs.risk", action="status")
    assert risk_event.change_for("issue")["after"] == str(issue)
    assert AuditEvent.objects.get(object_type="logs.issue").message == (
        "Raised from R-1, which occurred"
    )
    assert _change_version(account) > before
    # Pressing it twice (a double click) raises nothing new and says which issue it raised.
    events = AuditEvent.objects.count()
    with pytest.raises(RiskAlreadyOccurred) as already:
        risk_mark_occurred(risk=risk, actor=ie)
    assert already.value.issue == issue
    assert str(already.value) == "R-1 already happened: I-1 was raised then."
    assert Issue.objects.count() == 1 and AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "likelihood, impact, severity",
    [(1, 1, "low"), (3, 3, "medium"), (3, 4, "high"), (5, 5, "critical")],
)
def test_the_raised_issue_takes_its_severity_from_the_band(
    account, ie, likelihood, impact, severity
):
    risk = _risk(account, ie, likelihood=likelihood, impact=impact)
    assert risk_mark_occurred(risk=risk, actor=ie).severity == severity


def test_it_happened_rolls_back_whole_when_the_issue_cannot_be_raised(account, ie):
    owner = UserFactory(username="leaver")
    risk = _risk(account, owner)
    type(owner).objects.filter(pk=owner.pk).update(is_active=False)  # owner left meanwhile
    with pytest.raises(ValidationError):
        risk_mark_occurred(risk=risk, actor=ie)
    risk.refresh_from_db()
    assert risk.status == Risk.Status.OPEN and risk.issue is None
    assert not Issue.objects.exists()


def test_a_closed_risk_cannot_happen(account, ie):
    risk = _risk(account, ie)
    risk_status_change(risk=risk, actor=ie, status=Risk.Status.CLOSED)
    with pytest.raises(ValidationError, match="only an open or monitored risk"):
        risk_mark_occurred(risk=risk, actor=ie)
    assert not Issue.objects.exists()


# --- Expansion Opportunities -----------------------------------------------------------------
def test_opportunity_records_who_identified_it_and_when_it_was_transitioned(account, ie, ta):
    opportunity = opportunity_create(
        account=account,
        actor=ie,
        title="Firmware division",
        owner=ta,
        estimated_additional_users=400,
    )
    assert opportunity.identified_by == ie
    assert opportunity.stage == ExpansionOpportunity.Stage.IDENTIFIED
    assert opportunity.transitioned_at is None
    opportunity = opportunity_stage_change(
        opportunity=opportunity, actor=ie, stage=ExpansionOpportunity.Stage.TRANSITIONED
    )
    first = opportunity.transitioned_at
    assert first is not None
    opportunity = opportunity_stage_change(
        opportunity=opportunity, actor=ta, stage=ExpansionOpportunity.Stage.HANDED_TO_AE
    )
    opportunity = opportunity_stage_change(
        opportunity=opportunity, actor=ta, stage=ExpansionOpportunity.Stage.WON
    )
    assert opportunity.transitioned_at == first  # the first transition is kept
    stages = [
        e.change_for("stage")["after"]
        for e in AuditEvent.objects.filter(action="status").order_by("id")
    ]
    assert stages == ["Transitioned to TA", "Handed to account executive", "Won"]


def test_opportunity_rejects_a_negative_user_estimate(account, ie):
    opportunity = opportunity_create(account=account, actor=ie, title="More users", owner=ie)
    with pytest.raises(ValidationError) as error:
        opportunity_update(
            opportunity=opportunity,
            actor=ie,
            data={"estimated_additional_users": -5},
            expected_version=1,
        )
    assert "estimated_additional_users" in error.value.message_dict


# --- Every write bumps the account's change version ------------------------------------------
def test_every_write_records_an_audit_event_and_marks_the_account_changed(account, ie):
    writes = [
        lambda: journal_entry_create(account=account, author=ie, title="T", body="B"),
        lambda: issue_create(account=account, actor=ie, title="I", owner=ie),
        lambda: issue_update(
            issue=Issue.objects.get(), actor=ie, data={"title": "I2"}, expected_version=1
        ),
        lambda: issue_status_change(
            issue=Issue.objects.get(), actor=ie, status=Issue.Status.BLOCKED
        ),
        lambda: issue_note_add(issue=Issue.objects.get(), actor=ie, body="Waiting."),
        lambda: _risk(account, ie),
        lambda: risk_update(
            risk=Risk.objects.get(), actor=ie, data={"impact": 2}, expected_version=1
        ),
        lambda: risk_status_change(
            risk=Risk.objects.get(), actor=ie, status=Risk.Status.MONITORING
        ),
        lambda: opportunity_create(account=account, actor=ie, title="O", owner=ie),
        lambda: opportunity_update(
            opportunity=ExpansionOpportunity.objects.get(),
            actor=ie,
            data={"title": "O2"},
            expected_version=1,
        ),
    ]
    for write in writes:
        versions, events = _change_version(account), AuditEvent.objects.count()
        write()
        assert _change_version(account) == versions + 1
        assert AuditEvent.objects.count() == events + 1


# --- Versions are required -------------------------------------------------------------------
def _edits(account, ie):
    """(the row, its edit service with the row and actor bound) for each log."""
    entry = journal_entry_create(account=account, author=ie, title="T", body="B")
    issue = issue_create(account=account, actor=ie, title="I", owner=ie)
    risk = _risk(account, ie)
    opportunity = opportunity_create(account=account, actor=ie, title="O", owner=ie)
    return [
        (entry, functools.partial(journal_entry_update, entry=entry, actor=ie)),
        (issue, functools.partial(issue_update, issue=issue, actor=ie)),
        (risk, functools.partial(risk_update, risk=risk, actor=ie)),
        (opportunity, functools.partial(opportunity_update, opportunity=opportunity, actor=ie)),
    ]


def test_an_edit_without_its_version_is_refused_and_writes_nothing(account, ie):
    for row, edit in _edits(account, ie):
        title = row.title
        versions, events = _change_version(account), AuditEvent.objects.count()
        with pytest.raises(MissingVersionError, match="sent without its version"):
            edit(data={"title": "Overwritten blind"}, expected_version=None)
        row.refresh_from_db()
        assert (row.title, row.version) == (title, 1)
        assert (_change_version(account), AuditEvent.objects.count()) == (versions, events)


def test_any_version_overwrites_on_purpose(account, ie):
    for row, edit in _edits(account, ie):
        edit(data={"title": "Saved first"}, expected_version=1)
        # A form rendered from version 1 would be refused now; ANY_VERSION says "overwrite".
        edit(data={"title": "Seeded"}, expected_version=ANY_VERSION)
        row.refresh_from_db()
        assert (row.title, row.version) == ("Seeded", 3)
