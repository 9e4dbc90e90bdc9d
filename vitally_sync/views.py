import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from handoff.accounts.models import Account
from handoff.accounts.selectors import account_get
from handoff.common.forms import VersionForm
from handoff.permissions import Action, can, require
from vitally_sync.conf import sync_config
from vitally_sync.differences import (
    ResolveRefused,
    difference_keep,
    difference_rows,
    difference_take,
)
from vitally_sync.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from vitally_sync.metrics import metrics_text
from vitally_sync.payloads import traits_build, traits_diff
from vitally_sync.reconcile import value_text
from vitally_sync.selectors import (
    account_sync_of,
    portal_values_get,
    sync_attempt_list,
    sync_badge,
    sync_known_traits,
)
from vitally_sync.services import sync_push_request


def panel_context(
    *,
    account: Account,
    user,
    notice: str = "",
    refused: bool = False,
    errors: dict[int, str] | None = None,
) -> dict:
    """The Vitally section of the account page: state, last push, what Vitally is known to
    hold beside the portal's values (what a push would send is what differs), the fields that
    differ in Vitally (read back by reconcile.py) with what may be done about them, the last
    error, recent attempts. Constant query count: the differences come with the page's load."""
    config = sync_config()
    sync = account_sync_of(account)
    badge = sync_badge(account=account, sync=sync, config=config)
    current = traits_build(portal_values_get(account=account), trait_map=config.trait_map)
    last = sync_known_traits(sync, account.vitally_account_id) if sync is not None else None
    rows = traits_diff(last, current, trait_map=config.trait_map)
    differences = difference_rows(account, config=config, errors=errors)
    read_back = {row.difference.trait_key: row.difference for row in differences}
    can_resolve = can(user, Action.VITALLY_PUSH, account)
    return {
        "config": config,
        "sync": sync,
        "badge": badge,
        "rows": rows,
        # Each trait row with what the last read found in Vitally when it differs.
        "table": [(row, read_back.get(row.key)) for row in rows],
        "differences": differences,
        "can_resolve": can_resolve,
        "can_take": can_resolve and can(user, Action.RECORD_EDIT, account),
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
        # The notice says why nothing was done: shown as an error (role="alert"), not a status.
        "refused": refused,
    }


def _account(account_id: int) -> Account:
    try:
        return account_get(account_id=account_id)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None


def _render_panel(
    request,
    account: Account,
    *,
    notice: str = "",
    refused: bool = False,
    errors: dict[int, str] | None = None,
):
    context = {
        "account": account,
        "ctx": panel_context(
            account=account, user=request.user, notice=notice, refused=refused, errors=errors
        ),
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
        refused = level == messages.ERROR
        return _render_panel(request, _account(account_id), notice=notice, refused=refused)
    messages.add_message(request, level, notice)
    return redirect(f"{account.get_absolute_url()}#vitally")


@login_not_required  # Prometheus has no session: the bearer token is what guards it
@never_cache
def metrics_view(request):
    """GET /metrics, the Vitally sync's numbers in Prometheus' text format, read from the
    database at each scrape. Off (404, like any unknown address) until METRICS_TOKEN is set;
    then only `Authorization: Bearer <METRICS_TOKEN>` gets them, and anything else a bare 401."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not constant_time_compare(supplied.strip(), token):
        return HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"})
    return HttpResponse(metrics_text(), content_type=METRICS_CONTENT_TYPE)


# --- "Differs in Vitally": keep the portal's value, or take Vitally's ------------------------
@require_POST
def difference_keep_view(request, account_id: int, difference_id: int):
    account = _account(account_id)
    require(request.user, Action.VITALLY_PUSH, account)
    return _resolve(request, account, difference_id, keep=True)


@require_POST
def difference_take_view(request, account_id: int, difference_id: int):
    account = _account(account_id)
    # An edit of the deployment record, which also decides what Vitally is sent.
    require(request.user, Action.VITALLY_PUSH, account)
    require(request.user, Action.RECORD_EDIT, account)
    return _resolve(request, account, difference_id, keep=False)


def _resolve(request, account: Account, difference_id: int, *, keep: bool):
    """Both buttons post the difference's version (what the person saw). Without JavaScript
    a success goes back to the panel with a message; a refusal shows the panel on a page of
    its own, with the reason next to the field. With htmx the panel is swapped in place."""
    form = VersionForm(request.POST)
    errors: dict[int, str] = {}
    notice = ""
    try:
        if not form.is_valid():
            raise ResolveRefused(" ".join(form.non_field_errors()))
        resolve = difference_keep if keep else difference_take
        done = resolve(
            account=account,
            difference_id=difference_id,
            expected_version=form.cleaned_data["version"],
            actor=request.user,
        )
    except ResolveRefused as refused:
        if refused.beside_field:
            errors[difference_id] = refused.message
        else:
            notice = refused.message
        fresh = _account(account.pk)
        if request.htmx:
            return _render_panel(request, fresh, notice=notice, refused=True, errors=errors)
        context = {
            "account": fresh,
            "ctx": panel_context(
                account=fresh, user=request.user, notice=notice, refused=True, errors=errors
            ),
        }
        return render(request, "vitally_sync/panel_page.html", context)
    if keep:
        notice = (
            f"Kept the portal's value of {done.label} "
            f"({value_text(done.portal_value)}): a worker sends it to Vitally within seconds."
        )
    else:
        notice = (
            f"Took Vitally's value of {done.label} ({value_text(done.vitally_value)}): the "
            "production deployment now says so, and History records it."
        )
    if request.htmx:
        return _render_panel(request, _account(account.pk), notice=notice)
    messages.success(request, notice)
    return redirect(f"{account.get_absolute_url()}#vitally")
