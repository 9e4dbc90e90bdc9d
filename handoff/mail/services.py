"""The e-mail outbox: `email_queue` inside a write's transaction, `email_send` after it.

Sending is at least once: a worker killed between the mail server's acceptance and the row's
update sends that e-mail again at the next attempt. The claim (`next_attempt_at` moved past the
send's timeout) keeps two processes from sending one row at the same time."""

import datetime
import logging
import unicodedata

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from handoff.audit.models import AuditEvent
from handoff.audit.services import audit_record
from handoff.mail.models import OutgoingEmail

logger = logging.getLogger(__name__)
SEND_DUE_BATCH = 100


def header_text(text: str) -> str:
    """One line with no control characters: a subject built from a record's name can never
    inject or break a header (Django refuses CR and LF in headers)."""
    return "".join(ch for ch in " ".join(text.split()) if unicodedata.category(ch) != "Cc")


def email_queue(
    *, kind: str, subject: str, body: str, to: list[str], account=None
) -> OutgoingEmail | None:
    """Record an e-mail in the caller's transaction and try it once that commits. None when
    there is nobody to send it to."""
    if not to:
        return None
    email = OutgoingEmail.objects.create(
        account=account,
        kind=kind,
        subject=header_text(f"[Handoff] {subject}")[:300],
        body=body,
        to=to,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: email_send(email_id=email.pk), robust=True)
    return email


def _retry_delay(attempts: int) -> datetime.timedelta:
    # 1, 2, 4 … minutes, at most an hour apart.
    return datetime.timedelta(seconds=min(60 * 2 ** (attempts - 1), 3600))


def _claim(email_id: int) -> OutgoingEmail | None:
    now = timezone.now()
    lease = datetime.timedelta(seconds=settings.EMAIL_TIMEOUT * 2 + 30)
    claimed = OutgoingEmail.objects.filter(
        pk=email_id, status=OutgoingEmail.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + lease, attempts=F("attempts") + 1)
    return OutgoingEmail.objects.get(pk=email_id) if claimed else None


def email_send(*, email_id: int) -> bool:
    """Try one pending e-mail that is due. True when the mail server took it."""
    email = _claim(email_id)
    if email is None:
        return False  # sent, given up, not due, or another process is sending it
    try:
        EmailMessage(
            subject=email.subject,
            body=email.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=email.to,
        ).send(fail_silently=False)
    except Exception as error:
        _failed(email, error)
        return False
    with transaction.atomic():
        OutgoingEmail.objects.filter(pk=email.pk).update(
            status=OutgoingEmail.Status.SENT, sent_at=timezone.now(), next_attempt_at=None
        )
        if email.attempts > 1:
            _record(email, f"Sent the e-mail “{email.subject}” to {email.recipients}")
    return True


def _failed(email: OutgoingEmail, error: Exception) -> None:
    logger.warning("E-mail %s (%s) not sent: %r", email.pk, email.kind, error)
    reason = f"{type(error).__name__}: {error}"[:500]
    gave_up = email.attempts >= settings.EMAIL_MAX_ATTEMPTS
    with transaction.atomic():
        OutgoingEmail.objects.filter(pk=email.pk).update(
            status=OutgoingEmail.Status.FAILED if gave_up else OutgoingEmail.Status.PENDING,
            last_error=reason,
            next_attempt_at=None if gave_up else timezone.now() + _retry_delay(email.attempts),
        )
        # History says so at the first failure and when the portal gives up, not at each try.
        if email.attempts == 1 or gave_up:
            then = "Gave up" if gave_up else "It will be tried again"
            _record(
                email,
                f"Could not send the e-mail “{email.subject}” to {email.recipients} "
                f"({reason}). {then}.",
            )


def _record(email: OutgoingEmail, message: str) -> None:
    if email.account_id is None:
        return
    audit_record(
        actor=None,
        account=email.account,
        obj=email,
        action=AuditEvent.Kind.ACTION,
        message=message,
    )


def emails_send_due(*, limit: int = SEND_DUE_BATCH) -> int:
    """The worker's retry: every pending e-mail whose time has come, oldest first."""
    due = OutgoingEmail.objects.filter(
        status=OutgoingEmail.Status.PENDING, next_attempt_at__lte=timezone.now()
    ).order_by("next_attempt_at", "pk")
    return sum(email_send(email_id=pk) for pk in due.values_list("pk", flat=True)[:limit])


def email_send_again(*, email_id: int) -> bool:
    """By hand (the admin): try a pending or given-up e-mail now, with its attempts counted
    afresh."""
    OutgoingEmail.objects.filter(pk=email_id).exclude(status=OutgoingEmail.Status.SENT).update(
        status=OutgoingEmail.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    return email_send(email_id=email_id)
