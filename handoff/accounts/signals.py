from django.dispatch import Signal

# Sent after the transaction that changed an account (or any record under it) has committed,
# with `account_id` and `change_version`. The durable record of the change is the bumped
# Account.change_version itself; receivers (the Vitally sync) only use this to act sooner.
account_changed = Signal()
