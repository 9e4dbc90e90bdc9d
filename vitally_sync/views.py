import json

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from handoff.accounts.models import Account
from handoff.accounts.selectors import account_get
from handoff.permissions import Action, can, require
from vitally_sync.conf import sync_config
from vitally_sync.payloads import traits_build, traits_diff
from vitally_sync.selectors import (
    account_sync_of,
    portal_values_get,
    sync_attempt_list,
    sync_badge,
    sync_known_traits,
)
from vitally_sync.services import sync_push_request


def panel_context(*, account: Account, user, notice: str = "") -> dict:
    """The Vitally section of the account page: state, last push, what Vitally is known to
    hold beside the portal's values (what a push would send is what differs), the last error,
    recent attempts. Constant query count."""
    config = sync_config()
    sync = account_sync_of(account)
    badge = sync_badge(account=account, sync=sync, config=config)
    current = traits_build(portal_values_get(account=account), trait_map=config.trait_map)
    last = sync_known_traits(sync, account.vitally_account_id) if sync is not None else None
    rows = traits_diff(last, current, trait_map=config.trait_map)
    return {
        "config": config,
        "sync": sync,
        "badge": badge,
        "rows": rows,
        "changed_count": sum(1 for row in rows if row.changed),
        "known_json": json.dumps(last, indent=2, ensure_ascii=False) if last else "",
        "attempts": sync_attempt_list(account_id=account.pk),
        "can_push": (
            config.enabled
            and bool(account.vitally_account_id)
            and can(user, Action.VITALLY_PUSH, account)
        ),
        # While something is on its way, the panel refreshes itself (htmx) to show it land.
        "polling": badge.state in ("pending", "retrying"),
        "notice": notice,
    }


def _account(account_id: int) -> Account:
    try:
        return account_get(account_id=account_id)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None


def _render_panel(request, account: Account, *, notice: str = ""):
    context = {
        "account": account,
        "ctx": panel_context(account=account, user=request.user, notice=notice),
        "partial": True,  # also refresh the badge in the page header (out of band)
    }
    return render(request, "vitally_sync/_panel.html", context)


@require_GET
def vitally_panel_view(request, account_id: int):
    account = _account(account_id)
    require(request.user, Action.ACCOUNT_VIEW, account)
    return _render_panel(request, account)


@require_POST
def vitally_push_view(request, account_id: int):
    account = _account(account_id)
    require(request.user, Action.VITALLY_PUSH, account)
    if not sync_config().enabled:
        notice, level = "The Vitally sync is not configured: nothing was sent.", messages.ERROR
    elif not account.vitally_account_id:
        notice, level = "This account has no Vitally account id: nothing was sent.", messages.ERROR
    else:
        sync_push_request(account=account, actor=request.user)
        notice = "Push requested: a worker sends the current values to Vitally within seconds."
        level = messages.SUCCESS
    if request.htmx:
        return _render_panel(request, _account(account_id), notice=notice)
    messages.add_message(request, level, notice)
    return redirect(f"{account.get_absolute_url()}#vitally")
