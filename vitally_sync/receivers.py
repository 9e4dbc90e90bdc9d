from vitally_sync.conf import sync_config
from vitally_sync.services import sync_kick


def account_changed_kick(sender, account_id: int, **kwargs) -> None:
    """accounts.signals.account_changed arrives after the change committed: queue a push for
    speed. Nothing depends on it: the bumped change_version already says "push me"."""
    if sync_config().enabled:
        sync_kick(account_id=account_id)
