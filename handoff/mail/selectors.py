import datetime

from handoff.mail.models import OutgoingEmail


def email_latest_get(
    *, account_id: int, kind: str, since: datetime.datetime
) -> OutgoingEmail | None:
    """The e-mail of this kind queued for the account since `since` (a view's own write)."""
    return (
        OutgoingEmail.objects.filter(account_id=account_id, kind=kind, created_at__gte=since)
        .order_by("-pk")
        .first()
    )


def email_outcome(email: OutgoingEmail | None) -> str:
    """What a page that promised an e-mail tells the person: what really happened to it."""
    if email is None:
        return "No one was e-mailed: nobody to tell has an e-mail address on file."
    if email.status == OutgoingEmail.Status.SENT:
        return f"E-mailed {email.recipients}."
    return (
        f"The e-mail to {email.recipients} could not be sent yet ({email.last_error}). "
        "The portal will try again; History will show when it is sent."
    )
