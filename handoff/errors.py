"""The portal's own error views (handoff/urls.py names them)."""

from django.shortcuts import render

from handoff.permissions import AccountPermissionDenied, record_keeper_sentence


def permission_denied_view(request, exception=None):
    """403: what was refused and, when it is about an account, who keeps its record, with a
    link back to the account (not to Accounts)."""
    account = exception.account if isinstance(exception, AccountPermissionDenied) else None
    context = {
        "message": str(exception or "") or "You can’t do that here.",
        "account": account,
        "keeper": record_keeper_sentence(account) if account is not None else "",
    }
    return render(request, "403.html", context, status=403)
