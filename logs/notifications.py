"""E-mails of the logs. Callers queue them inside the transaction of what they tell about
(mail.services.email_queue): they are sent once it commits, and retried by the worker when the
mail server fails."""

import datetime

from django.conf import settings
from django.template.loader import render_to_string

from handoff.accounts.models import Account
from handoff.mail.models import OutgoingEmail
from handoff.mail.services import email_queue


def email_stale_digest(*, owner, items: list, now: datetime.datetime) -> OutgoingEmail | None:
    """ "Update requested": every stale item `owner` owns, grouped by account, in one e-mail."""
    count = len(items)
    accounts: dict[Account, list] = {}
    for item in items:
        accounts.setdefault(item.account, []).append(item)
    body = render_to_string(
        "logs/email/stale_digest.txt",
        {
            "owner": owner,
            "count": count,
            "accounts": list(accounts.items()),
            "base_url": settings.PORTAL_BASE_URL.rstrip("/"),
            "now": now,
        },
    )
    return email_queue(
        kind=OutgoingEmail.Kind.STALE_DIGEST,
        subject=f"Update requested: {count} stale item{'s' if count != 1 else ''} "
        "in the Handoff logs",
        body=body,
        to=[owner.email],
    )
