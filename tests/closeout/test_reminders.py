"""The planned completion reminder: about three weeks before, once per account and date, to
the IE and the manager, while no TA is assigned or the TA has not acknowledged."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from handoff.accounts.models import Account
from handoff.accounts.services import account_update
from handoff.audit.models import AuditEvent
from handoff.celery import app
from handoff.closeout import services
from handoff.closeout.models import CompletionReminder
from handoff.closeout.review import changes_since_review
from handoff.closeout.selectors import account_list_due_for_completion_reminder
from handoff.closeout.tasks import completion_reminders_send
from handoff.common.services import ANY_VERSION
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def in_days(days: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=days)


def due_names():
    return sorted(
        account_list_due_for_completion_reminder(today=TODAY, days_before=21).values_list(
            "name", flat=True
        )
    )


def test_which_accounts_are_due(ie, ta, manager):
    base = {"implementation_engineer": ie, "manager": manager}
    AccountFactory(
        name="No TA, 18 days", technical_advisor=None, planned_completion_date=in_days(18), **base
    )
    AccountFactory(
        name="TA not acknowledged, 21 days",
        technical_advisor=ta,
        planned_completion_date=in_days(21),
        **base,
    )
    AccountFactory(name="Today", technical_advisor=None, planned_completion_date=TODAY, **base)
    acknowledged = AccountFactory(
        name="Acknowledged", technical_advisor=ta, planned_completion_date=in_days(10), **base
    )
    services.handoff_acknowledge(account=acknowledged, actor=ta)
    AccountFactory(
        name="Too early, 22 days",
        technical_advisor=None,
        planned_completion_date=in_days(22),
        **base,
    )
    AccountFactory(
        name="Date passed", technical_advisor=None, planned_completion_date=in_days(-1), **base
    )
    AccountFactory(name="No date", technical_advisor=None, planned_completion_date=None, **base)
    AccountFactory(
        name="Handed off",
        technical_advisor=None,
        phase=Account.Phase.HANDED_OFF,
        planned_completion_date=in_days(5),
        **base,
    )
    assert due_names() == ["No TA, 18 days", "TA not acknowledged, 21 days", "Today"]


def test_acknowledgement_by_a_previous_ta_does_not_count(account, ta, manager):
    from tests.factories import UserFactory

    account_update(
        account=account,
        actor=manager,
        data={"planned_completion_date": in_days(10)},
        expected_version=ANY_VERSION,
    )
    services.handoff_acknowledge(account=account, actor=ta)
    assert due_names() == []
    account_update(
        account=account,
        actor=manager,
        data={"technical_advisor": UserFactory(username="new-ta", role="ta")},
        expected_version=ANY_VERSION,
    )
    assert due_names() == ["Acme Robotics"]


@pytest.mark.django_db(transaction=True)  # e-mails go out when the change commits
def test_one_reminder_per_account_and_date_with_its_content(
    account, ie, ta, manager, mailoutbox, settings
):
    settings.PORTAL_BASE_URL = "https://handoff.example.com"
    account_update(
        account=account,
        actor=manager,
        data={"planned_completion_date": in_days(18)},
        expected_version=ANY_VERSION,
    )

    assert completion_reminders_send() == 1
    assert completion_reminders_send() == 0  # the next day's run, same date: nothing
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [ie.email, manager.email]
    assert mail.subject == (
        "[Handoff] Acme Robotics: planned completion in 18 days, pull in the technical advisor"
    )
    assert f"Its technical advisor, {ta}, has not acknowledged the account yet." in mail.body
    assert "Account page:\n" in mail.body
    assert f"https://handoff.example.com/accounts/{account.pk}/" in mail.body
    reminder = CompletionReminder.objects.get()
    assert (reminder.planned_completion_date, reminder.recipients) == (
        in_days(18),
        [ie.email, manager.email],
    )
    event = AuditEvent.objects.get(object_type="closeout.completionreminder")
    assert event.actor is None
    assert event.message == f"Sent the planned completion reminder to {ie}, {manager}"

    # The plan moves: the new date earns its own reminder, once.
    account_update(
        account=account,
        actor=manager,
        data={"planned_completion_date": in_days(15)},
        expected_version=ANY_VERSION,
    )
    assert completion_reminders_send() == 1
    assert completion_reminders_send() == 0
    assert len(mailoutbox) == 2
    assert "No technical advisor" not in mailoutbox[1].body


@pytest.mark.django_db(transaction=True)  # e-mails go out when the change commits
def test_no_ta_wording(account, ie, manager, mailoutbox):
    account_update(
        account=account,
        actor=manager,
        data={"planned_completion_date": in_days(1), "technical_advisor": None},
        expected_version=ANY_VERSION,
    )
    assert services.completion_reminder_send(account_id=account.pk, today=TODAY) is True
    assert "planned completion in 1 day," in mailoutbox[0].subject
    assert "No technical advisor is assigned yet." in mailoutbox[0].body
    assert "Account page (assign the technical advisor):" in mailoutbox[0].body


@pytest.mark.django_db(transaction=True)  # e-mails go out when the change commits
def test_a_refused_reminder_is_recorded_once_and_its_email_retried(
    account, manager, mailoutbox, monkeypatch
):
    from django.core.mail import EmailMessage

    from handoff.mail.models import OutgoingEmail
    from handoff.mail.services import emails_send_due

    account_update(
        account=account,
        actor=manager,
        data={"planned_completion_date": in_days(5)},
        expected_version=ANY_VERSION,
    )

    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailMessage, "send", refuse)
    assert completion_reminders_send() == 1
    assert completion_reminders_send() == 0  # the reminder is recorded: never twice
    email = OutgoingEmail.objects.get(kind="completion_reminder")
    assert (email.status, email.attempts) == ("pending", 1)
    assert "mail server down" in email.last_error
    monkeypatch.undo()
    OutgoingEmail.objects.update(next_attempt_at=timezone.now())  # its retry time has come
    assert emails_send_due() == 1
    assert len(mailoutbox) == 1


def test_reminders_are_not_changes_to_review(account, ta, manager):
    review = services.handoff_mark_reviewed(account=account, actor=ta)
    Account.objects.filter(pk=account.pk).update(planned_completion_date=in_days(3))
    before = Account.objects.get(pk=account.pk).change_version
    assert services.completion_reminder_send(account_id=account.pk, today=TODAY)
    assert changes_since_review(account_id=account.pk, review=review).groups == []
    # Nothing Vitally shows changed, so the account's change version stays.
    assert Account.objects.get(pk=account.pk).change_version == before


def test_days_before_is_configurable(account, manager, settings):
    account_update(
        account=account,
        actor=manager,
        data={"planned_completion_date": in_days(18)},
        expected_version=ANY_VERSION,
    )
    settings.HANDOFF_REMINDER_DAYS_BEFORE = 14
    assert completion_reminders_send() == 0
    settings.HANDOFF_REMINDER_DAYS_BEFORE = 21
    assert completion_reminders_send() == 1


def test_days_before_comes_from_the_environment():
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "HANDOFF_REMINDER_DAYS_BEFORE": "30", "DEBUG": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.HANDOFF_REMINDER_DAYS_BEFORE)",
        ],
        cwd=root,
        env={**env, "DJANGO_SETTINGS_MODULE": "handoff.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "30"


def test_beat_runs_the_reminders_daily():
    entry = app.conf.beat_schedule["completion-reminders"]
    assert entry["task"] == "closeout.completion_reminders_send"
    assert app.tasks["closeout.completion_reminders_send"] is not None


@pytest.mark.django_db(transaction=True)  # e-mails go out when the change commits
def test_the_command_sends_the_due_reminders_now_once(account, manager, mailoutbox):
    from io import StringIO

    from django.core.management import call_command

    account_update(
        account=account,
        actor=manager,
        data={"planned_completion_date": timezone.localdate() + datetime.timedelta(days=3)},
        expected_version=ANY_VERSION,
    )
    out = StringIO()
    call_command("completion_reminders_send", stdout=out)
    assert out.getvalue().strip() == "Sent 1 reminder."
    call_command("completion_reminders_send", stdout=out)
    assert len(mailoutbox) == 1
