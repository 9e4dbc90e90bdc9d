"""The e-mail outbox: an e-mail is recorded with the change it tells about, sent when that
commits, retried by the worker when the mail server refuses it, and the page that promised it
says what really happened (issue 12: a CR/LF in an account name once stopped every e-mail
about it while the page said "have been e-mailed")."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from handoff.celery import app
from handoff.mail.models import OutgoingEmail
from handoff.mail.services import email_send, email_send_again, emails_send_due

# Sending happens when the request's transaction commits: these tests let it commit.
pytestmark = pytest.mark.django_db(transaction=True)


def _request_handoff(client, account) -> str:
    response = client.post(reverse("closeout:handoff_request", args=[account.pk]))
    assert response.status_code == 302
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


@pytest.fixture
def refusing_mail_server(monkeypatch):
    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailMessage, "send", refuse)
    return monkeypatch


def _due_now() -> None:
    OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def test_a_line_break_in_the_account_name_no_longer_stops_the_email(
    client_for, account, ie, ta, manager, mailoutbox
):
    # Stored before names were checked (or through a path that does not check them).
    Account.objects.filter(pk=account.pk).update(name="Acme\r\nBcc: everyone@example.com")
    message = _request_handoff(client_for(ie), account)

    assert len(mailoutbox) == 1
    sent = mailoutbox[0]
    assert sent.subject == "[Handoff] Acme Bcc: everyone@example.com: handoff requested"
    assert sent.to == [ta.email, manager.email]
    assert message.startswith(
        f"Handoff requested. E-mailed {ta} (technical advisor) and {manager} (manager)."
    )
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.SENT


def test_a_refused_email_is_recorded_shown_and_retried_by_the_worker(
    client_for, account, ie, ta, manager, mailoutbox, refusing_mail_server
):
    message = _request_handoff(client_for(ie), account)

    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.PENDING, 1)
    assert email.last_error == "ConnectionRefusedError: mail server down"
    # The page that promised the e-mail says it did not go, and why.
    assert message.startswith(
        f"Handoff requested. The e-mail to {ta} (technical advisor) and {manager} (manager) "
        "could not be sent yet (ConnectionRefusedError: mail server down). The portal will try "
        "again; History will show when it is sent."
    )
    history = AuditEvent.objects.filter(object_type="mail.outgoingemail").values_list(
        "message", flat=True
    )
    assert list(history) == [
        f"Could not send the e-mail “[Handoff] Acme Robotics: handoff requested” to "
        f"{ta.email}, {manager.email} (ConnectionRefusedError: mail server down). "
        "It will be tried again."
    ]
    assert emails_send_due() == 0  # not due before its backoff
    refusing_mail_server.undo()
    _due_now()
    assert emails_send_due() == 1
    assert len(mailoutbox) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts, email.sent_at is not None) == ("sent", 2, True)
    assert AuditEvent.objects.filter(
        object_type="mail.outgoingemail",
        message=f"Sent the e-mail “{email.subject}” to {ta.email}, {manager.email}",
    ).exists()
    # What the account's History shows.
    page = client_for(ie).get(reverse("accounts:history", args=[account.pk])).content.decode()
    assert "Could not send the e-mail" in page and "Sent the e-mail" in page


def test_nobody_to_email_is_said_plainly(client_for, account, ie, ta, mailoutbox):
    Account.objects.filter(pk=account.pk).update(technical_advisor=None)
    account.manager.email = ""
    account.manager.save()
    message = _request_handoff(client_for(ie), account)
    assert message.startswith(
        "Handoff requested. No one was e-mailed: nobody to tell has an e-mail address on file. "
        "No technical advisor is assigned: nobody can acknowledge the account until one is "
        "(Edit account)."
    )
    assert not OutgoingEmail.objects.exists() and mailoutbox == []


def test_the_worker_gives_up_after_the_last_attempt_and_staff_can_send_it_again(
    account, ta, mailoutbox, refusing_mail_server, settings, client_for, admin_user
):
    from handoff.closeout import notifications

    settings.EMAIL_MAX_ATTEMPTS = 3
    notifications.email_reopened(account_id=account.pk, reason="Indexing broke")
    for _ in range(3):
        _due_now()
        emails_send_due()
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts, email.next_attempt_at) == ("failed", 3, None)
    _due_now()
    assert emails_send_due() == 0  # given up: no more tries
    assert AuditEvent.objects.filter(message__endswith="Gave up.").count() == 1

    admin = client_for(admin_user)
    changelist = reverse("admin:mail_outgoingemail_changelist")
    listing = admin.get(changelist).content.decode()
    assert "Not sent (gave up)" in listing and "mail server down" in listing
    refusing_mail_server.undo()
    response = admin.post(
        changelist, {"action": "send_again", "_selected_action": [email.pk]}, follow=True
    )
    assert "Sent 1 of 1 e-mails not sent yet." in response.content.decode()
    email.refresh_from_db()
    assert email.status == "sent" and len(mailoutbox) == 1


def test_an_email_being_sent_is_not_sent_again_by_another_process(account, mailoutbox, monkeypatch):
    row = OutgoingEmail.objects.create(
        account=account, kind="reopened", subject="s", body="b", to=["a@example.com"],
        next_attempt_at=timezone.now(),
    )  # fmt: skip
    send = EmailMessage.send
    raced = []

    def send_while_another_process_tries(self, fail_silently=False):
        raced.append(email_send(email_id=row.pk))  # the sweep, during this send
        return send(self, fail_silently)

    monkeypatch.setattr(EmailMessage, "send", send_while_another_process_tries)
    assert email_send(email_id=row.pk) is True
    assert raced == [False]
    monkeypatch.undo()
    assert email_send(email_id=row.pk) is False  # sent: never again
    assert email_send_again(email_id=row.pk) is False
    assert len(mailoutbox) == 1


def test_the_retry_runs_from_beat(settings):
    import handoff.mail.tasks  # noqa: F401  (the worker finds it by autodiscovery)

    entry = app.conf.beat_schedule["mail-send-due"]
    assert entry["task"] == "mail.emails_send_due"
    assert entry["schedule"] == settings.EMAIL_RETRY_SECONDS
    assert "mail.emails_send_due" in app.tasks
