"""Demo handoffs for `manage.py seed_demo`: accounts in every phase, through the services.

- Cobalt Health: ready for handoff and every readiness rule met (the deployment record and
  logs demos make it so): ready to sign off.
- Granite Insurance: ready for handoff with blockers (open checklist items, TA not acknowledged,
  an open critical issue, a high risk without a response plan).
- Dunmore Logistics, Juniper Retail: handed off with a signed snapshot, nothing overridden.
- Helix Pharmaceuticals: handed off by a sign-off that overrode a blocker.
- Ion Semiconductors: the TA reviewed it, then the IE changed things: changes to review.
- The others: in implementation, checklists at various stages (two not started).

Idempotent: each step runs only when the account has not reached it yet. No e-mails.
"""

import datetime
from importlib import import_module

from django.utils import timezone

from handoff.accounts.demo import DEMO_ACCOUNTS
from handoff.accounts.models import Account
from handoff.accounts.services import account_update
from handoff.closeout import services
from handoff.closeout.models import ChecklistItem, Closeout, HandoffReview
from handoff.closeout.selectors import checklist_template_list
from handoff.common.services import ANY_VERSION
from handoff.record import account_record_get

# After every other app's demo: a sign-off snapshots the records they seed.
SEED_ORDER = 100

ALL = 99
NOT_APPLICABLE = {
    "Admin accounts provisioned and admins trained": (
        "The customer's platform team provisions admins through SAML groups and runs its own "
        "admin training."
    )
}
EVIDENCE = "https://docs.example.com/implementations/{slug}/closeout#{anchor}"

# name: (items settled, TA acknowledges, TA reviews then IE changes things, override reason)
SCENARIOS: dict[str, tuple[int | None, bool, bool, str]] = {
    "Acme Robotics": (4, False, False, ""),
    "Borealis Bank": (2, False, False, ""),
    "Cobalt Health": (ALL, True, False, ""),
    "Dunmore Logistics": (ALL, True, False, ""),
    "Evergreen Energy": (0, False, False, ""),
    "Fjord Games": (None, False, False, ""),  # checklist not started
    "Granite Insurance": (8, False, False, ""),
    "Helix Pharmaceuticals": (
        10,
        True,
        False,
        "Production on a current version: the customer's change freeze ends next month; the "
        "upgrade is planned with the TA.",
    ),
    "Ion Semiconductors": (3, True, True, ""),
    "Juniper Retail": (ALL, True, False, ""),
    "Kestrel Aerospace": (5, False, False, ""),
    "Lumen Telecom": (None, False, False, ""),
}


def _ensure_template(*, actor) -> None:
    """A database flushed after migrating (some test setups) has no template: restore the
    handbook's items from the migration that seeds them."""
    if checklist_template_list().exists():
        return
    seed = import_module("handoff.closeout.migrations.0002_checklist_template_seed")
    for index, (title, guidance) in enumerate(seed.ITEMS, start=1):
        services.checklist_template_item_create(
            actor=actor, title=title, guidance=guidance, position=index * 10
        )


def _settle(account: Account, *, count: int, actor) -> None:
    slug = account.vitally_account_id or str(account.pk)
    for item in ChecklistItem.objects.filter(account=account).order_by("position", "pk")[:count]:
        if item.status != ChecklistItem.Status.OPEN:
            continue
        reason = NOT_APPLICABLE.get(item.title, "")
        services.checklist_item_update(
            item=item,
            actor=actor,
            data={
                "status": ChecklistItem.Status.NOT_APPLICABLE
                if reason
                else ChecklistItem.Status.DONE,
                "not_applicable_reason": reason,
                "evidence_url": "" if reason else EVIDENCE.format(slug=slug, anchor=item.position),
                "evidence_note": "" if reason else "Verified with the customer's admin.",
            },
            expected_version=ANY_VERSION,
        )


def _acknowledged(account: Account) -> bool:
    closeout = Closeout.objects.filter(account=account).first()
    return closeout is not None and closeout.acknowledged_by_current_ta(account)


def seed(*, users, accounts, stdout) -> None:
    _ensure_template(actor=users["manager"])
    targets = {name: phase for name, _v, phase, *_ in DEMO_ACCOUNTS}
    for name, (settled, acknowledge, review, override) in SCENARIOS.items():
        account = accounts.get(name)
        if account is None:
            continue
        account.refresh_from_db()
        ie, ta, manager = (
            account.implementation_engineer,
            account.technical_advisor,
            users["manager"],
        )
        if settled is not None and not ChecklistItem.objects.filter(account=account).exists():
            services.checklist_start(account=account, actor=ie)
        if review and HandoffReview.objects.filter(account=account).exists():
            continue  # the review story happened on an earlier run
        if acknowledge and ta is not None and not _acknowledged(account):
            services.handoff_acknowledge(account=account, actor=ta)
        if settled:
            _settle(account, count=settled, actor=ie)
        if review and ta is not None:
            services.handoff_mark_reviewed(account=account, actor=ta)
            _settle(account, count=settled + 2, actor=ie)
            account.refresh_from_db()
            account_update(
                account=account,
                actor=ie,
                data={
                    "planned_completion_date": timezone.localdate() + datetime.timedelta(days=32)
                },
                expected_version=ANY_VERSION,
            )
        _drive_phase(account, target=targets.get(name), ie=ie, manager=manager, override=override)
    stdout.write("Closeout: checklists, handoff requests, sign-offs and reviews seeded.")


def _drive_phase(account: Account, *, target, ie, manager, override: str) -> None:
    account.refresh_from_db()
    if target in (Account.Phase.READY_FOR_HANDOFF, Account.Phase.HANDED_OFF) and (
        account.phase == Account.Phase.IMPLEMENTATION
    ):
        services.handoff_request(account=account, actor=ie, notify=False)
        account.refresh_from_db()
    if target == Account.Phase.HANDED_OFF and account.phase == Account.Phase.READY_FOR_HANDOFF:
        readiness = account_record_get(account.pk).readiness
        if not readiness.ready and not override:
            # Another app's rule (say, a production field its demo leaves empty) blocks a
            # sign-off the story wants clean: say so instead of pretending it was ready.
            override = "Demo data: signed off although " + "; ".join(
                b.title for b in readiness.blockers
            )
        services.closeout_sign_off(
            account=account, actor=manager, override_reason=override, notify=False
        )
