"""Move an account's phase the only way the portal allows: the handoff workflow's services."""

from django.db import transaction

from handoff.accounts.models import Account
from handoff.closeout import services

Phase = Account.Phase

# One workflow step from each phase towards each other phase.
_NEXT_STEP = {
    (Phase.IMPLEMENTATION, Phase.READY_FOR_HANDOFF): Phase.READY_FOR_HANDOFF,
    (Phase.IMPLEMENTATION, Phase.HANDED_OFF): Phase.READY_FOR_HANDOFF,
    (Phase.READY_FOR_HANDOFF, Phase.IMPLEMENTATION): Phase.IMPLEMENTATION,
    (Phase.READY_FOR_HANDOFF, Phase.HANDED_OFF): Phase.HANDED_OFF,
    (Phase.HANDED_OFF, Phase.IMPLEMENTATION): Phase.IMPLEMENTATION,
    (Phase.HANDED_OFF, Phase.READY_FOR_HANDOFF): Phase.IMPLEMENTATION,
}


def _step(*, account: Account, actor, to: str) -> None:
    if to == Phase.READY_FOR_HANDOFF:
        services.handoff_request(account=account, actor=actor, notify=False)
    elif to == Phase.HANDED_OFF:
        services.closeout_sign_off(
            account=account, actor=actor, override_reason="Signed off by a test.", notify=False
        )
    elif account.phase == Phase.READY_FOR_HANDOFF:
        services.handoff_withdraw(account=account, actor=actor)
    else:
        services.closeout_reopen(
            account=account, actor=actor, reason="Reopened by a test.", notify=False
        )


@transaction.atomic
def phase_move(*, account: Account, actor, to: str) -> Account:
    """Request handoff, withdraw, sign off (overriding any blocker) or reopen, as many steps as
    `to` is away, in one transaction (one commit, like one save of a form). Returns the
    account as saved."""
    current = Account.objects.get(pk=account.pk)
    while current.phase != to:
        _step(account=current, actor=actor, to=_NEXT_STEP[(Phase(current.phase), Phase(to))])
        current = Account.objects.get(pk=account.pk)
    return current
