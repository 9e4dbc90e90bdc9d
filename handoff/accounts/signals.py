from django.dispatch import Signal

# Sent after the transaction that changed an account (or any record under it) has committed,
# with `account_id` and `change_version`. The durable record of the change is the bumped
# Account.change_version itself; receivers (the Vitally sync) only use this to act sooner.
account_changed = Signal()

# Sent inside the transaction of a create or an edit that sets the account's Vitally account id
# (a new link, or another account), with `account` and `actor`. A receiver may refuse the link
# by raising ValidationError ({"vitally_account_id": ...}): nothing is saved. The Vitally sync
# checks that no other account holds the same Vitally account under its other id, and records
# the values Vitally already holds so that the first push overwrites none of them unseen.
account_linking = Signal()
