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


def email_outcome(email: OutgoingEmail | None, *, who: str = "") -> str:
    """What a page that promised an e-mail tells the person: what really happened to it, naming
    the people written to (`who`, or the people of the portal whose addresses they are)."""
    if email is None:
        return "No one was e-mailed: nobody to tell has an e-mail address on file."
    who = who or _people_named(email.to)
    if email.status == OutgoingEmail.Status.SENT:
        return f"E-mailed {who}."
    if not email.last_error:  # not tried yet (it goes once the change is saved)
        return f"An e-mail to {who} is on its way."
    return (
        f"The e-mail to {who} could not be sent yet ({email.last_error}). "
        "The portal will try again; History will show when it is sent."
    )


def _people_named(addresses: list[str]) -> str:
    """ "Tomas Alvarez and Maya Nakamura": each address by its person's name (one query), an
    address nobody in the portal has as itself."""
    from handoff.people.models import User

    names = {u.email: str(u) for u in User.objects.filter(email__in=addresses)}
    named = [names.get(address, address) for address in addresses]
    return " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
