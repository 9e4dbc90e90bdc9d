"""E-mails of the handoff workflow. Callers queue them inside the transaction of the change they
tell about (mail.services.email_queue): they are sent once it commits, and retried by the worker
when the mail server fails. Links are absolute, from PORTAL_BASE_URL."""

import datetime

from django.conf import settings
from django.template.loader import render_to_string

from handoff.accounts.models import Account
from handoff.closeout.models import SignOff
from handoff.mail.models import OutgoingEmail
from handoff.mail.selectors import email_outcome
from handoff.mail.services import email_queue

# What each e-mail is about: a page finds the e-mail it promised by it.
HANDOFF_REQUESTED = OutgoingEmail.Kind.HANDOFF_REQUESTED
SIGNED_OFF = OutgoingEmail.Kind.SIGNED_OFF
REOPENED = OutgoingEmail.Kind.REOPENED
COMPLETION_REMINDER = OutgoingEmail.Kind.COMPLETION_REMINDER


def portal_url(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def people_with_email(people) -> list:
    """Distinct people that have an e-mail address, in the given order."""
    seen, result = set(), []
    for person in people:
        if person is not None and person.email and person.pk not in seen:
            seen.add(person.pk)
            result.append(person)
    return result


def _send(
    *, account: Account, kind: str, subject: str, template: str, context: dict, recipients: list
) -> OutgoingEmail | None:
    return email_queue(
        account=account,
        kind=kind,
        subject=subject,
        body=render_to_string(template, context),
        to=[person.email for person in recipients],
    )


def _account(account_id: int) -> Account:
    return Account.objects.select_related(
        "implementation_engineer", "technical_advisor", "manager", "closeout__handoff_requested_by"
    ).get(pk=account_id)


def _links(account: Account) -> dict:
    return {
        "account_url": portal_url(account.get_absolute_url()),
    }


def email_handoff_requested(*, account_id: int) -> OutgoingEmail | None:
    account = _account(account_id)
    return _send(
        account=account,
        kind=HANDOFF_REQUESTED,
        subject=f"{account.name}: handoff requested",
        template="closeout/email/handoff_requested.txt",
        context={"account": account, "requested_by": account.closeout.handoff_requested_by}
        | _links(account),
        recipients=people_with_email(
            [person for person, _ in _handoff_request_recipients(account)]
        ),
    )


def _handoff_request_recipients(account: Account) -> list[tuple[object, str]]:
    return [(account.technical_advisor, "technical advisor"), (account.manager, "manager")]


def handoff_requested_notice(*, account: Account, email: OutgoingEmail | None) -> str:
    """What "Request handoff" tells the person: whom it e-mailed, by name and role (the same
    people `email_handoff_requested` writes to), and that no TA is assigned when none is."""
    named = [
        f"{person} ({role})"
        for person, role in _handoff_request_recipients(account)
        if person is not None and person.email
    ]
    who = " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
    told = email_outcome(email, who=who)
    ta = account.technical_advisor
    if ta is None:
        told += " No technical advisor is assigned: nobody can acknowledge the account until "
        told += "one is (Edit account)."
    elif not ta.email:
        told += f" {ta} (technical advisor) has no e-mail address on file and was not e-mailed."
    return told


def email_signed_off(*, sign_off_id: int) -> OutgoingEmail | None:
    sign_off = SignOff.objects.get(pk=sign_off_id)
    account = _account(sign_off.account_id)
    return _send(
        account=account,
        kind=SIGNED_OFF,
        subject=f"{account.name} was signed off and handed off",
        template="closeout/email/signed_off.txt",
        context={
            "account": account,
            "sign_off": sign_off,
            "sign_off_url": portal_url(sign_off.get_absolute_url()),
        }
        | _links(account),
        recipients=people_with_email([account.implementation_engineer, account.technical_advisor]),
    )


def email_reopened(*, account_id: int, reason: str) -> OutgoingEmail | None:
    account = _account(account_id)
    return _send(
        account=account,
        kind=REOPENED,
        subject=f"{account.name} was reopened",
        template="closeout/email/reopened.txt",
        context={"account": account, "reason": reason} | _links(account),
        recipients=people_with_email([account.implementation_engineer, account.technical_advisor]),
    )


def email_completion_reminder(
    *, account: Account, recipients: list, today: datetime.date
) -> OutgoingEmail | None:
    days = (account.planned_completion_date - today).days
    return _send(
        account=account,
        kind=COMPLETION_REMINDER,
        subject=f"{account.name}: planned completion in {days} day{'s' if days != 1 else ''}, "
        "pull in the technical advisor",
        template="closeout/email/completion_reminder.txt",
        context={"account": account, "days": days} | _links(account),
        recipients=recipients,
    )
