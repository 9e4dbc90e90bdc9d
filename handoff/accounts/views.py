from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from handoff import registry
from handoff.accounts.forms import AccountFilterForm, AccountForm
from handoff.accounts.models import Account
from handoff.accounts.page_cache import cached_page, page_cache_key, page_render
from handoff.accounts.selectors import account_list_for_dashboard, account_version_get
from handoff.accounts.services import ACCOUNT_FIELDS, account_create, account_update
from handoff.audit.selectors import audit_event_list_for_account
from handoff.common.messages import saved_message
from handoff.common.services import ConcurrentEditError, field_values, submission_once
from handoff.people.models import User
from handoff.people.selectors import user_list_by_role
from handoff.permissions import Action, can, record_keeper_sentence, require
from handoff.record import account_record_get


def _account_list(request, *, mine: bool):
    engineers = list(user_list_by_role(role=User.Role.IMPLEMENTATION_ENGINEER))
    advisors = list(user_list_by_role(role=User.Role.TECHNICAL_ADVISOR))
    form = AccountFilterForm(request.GET, engineers=engineers, advisors=advisors)
    filters = {
        **form.filters(),
        "involving_user_id": request.user.pk if mine else None,
    }
    page = Paginator(account_list_for_dashboard(**filters), settings.DASHBOARD_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "mine": mine,
        "filters": filters,
        "query_string": query.urlencode(),
        "phases": Account.Phase.choices,
        "engineers": engineers,
        "advisors": advisors,
        "can_create": can(request.user, Action.ACCOUNT_CREATE),
        "columns": registry.columns(),
    }
    template = "accounts/_account_rows.html" if request.htmx else "accounts/dashboard.html"
    return render(request, template, context)


def dashboard_view(request):
    return _account_list(request, mine=False)


def my_accounts_view(request):
    return _account_list(request, mine=True)


@require_http_methods(["GET", "POST"])
def account_create_view(request):
    require(request.user, Action.ACCOUNT_CREATE)
    initial = (
        {"implementation_engineer": request.user} if request.user.is_implementation_engineer else {}
    )
    form = AccountForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k in ACCOUNT_FIELDS}
        try:
            with submission_once(form=form, user=request.user):
                account = account_create(actor=request.user, **data)
        except ValidationError as error:
            # Another request took the name (or Vitally id) since the form checked it, or this
            # form was already sent once.
            form.add_error(None, error)
        else:
            messages.success(request, f"Account “{account.name}” created.")
            return redirect(account)
    return render(request, "accounts/account_form.html", {"form": form, "creating": True})


@require_http_methods(["GET", "POST"])
def account_edit_view(request, account_id: int):
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, Action.ACCOUNT_EDIT, account)
    form = AccountForm(request.POST or None, instance=account, user=request.user)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k in ACCOUNT_FIELDS}
        try:
            account_update(
                account=account,
                actor=request.user,
                data=data,
                expected_version=form.expected_version(),
            )
        except ConcurrentEditError as error:
            conflict = _conflict_context(error, form)
        else:
            saved_message(request, "Account saved.", account_id=account.pk)
            return redirect("accounts:detail", account_id=account.pk)
    return render(
        request,
        "accounts/account_form.html",
        {"form": form, "account": account, "creating": False, "conflict": conflict},
    )


def _conflict_context(error: ConcurrentEditError, form) -> dict:
    """The values someone else saved, beside what this person typed; the next save wins
    deliberately (the form now carries the current version)."""
    current = error.instance
    form.add_error(None, error)
    data = form.data.copy()
    data["version"] = current.version
    form.data = data
    names = [n for n in form.fields if n in ACCOUNT_FIELDS]
    values = field_values(current, names)
    return {"rows": [(form.fields[n].label, values[n]) for n in names]}


def account_detail_view(request, account_id: int):
    try:
        version = account_version_get(account_id=account_id)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None
    require(request.user, Action.ACCOUNT_VIEW, version)
    key = page_cache_key(request, version, page="account")
    if cached := cached_page(request, key):
        return cached
    record = account_record_get(account_id)
    account = record.account
    sections = [
        {"section": s, "context": s.context(record, request.user)} for s in registry.sections()
    ]
    can_edit = can(request.user, Action.ACCOUNT_EDIT, account)
    return page_render(
        request,
        key,
        "accounts/account_detail.html",
        {
            "account": account,
            "sections": sections,
            "columns": [c for c in registry.columns() if c.on_account_page],
            "history": audit_event_list_for_account(account_id=account.pk),
            "can_edit": can_edit,
            "read_only": "" if can_edit else record_keeper_sentence(account),
        },
    )


def account_history_view(request, account_id: int):
    """Every recorded change of the account, newest first, a page at a time."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, Action.ACCOUNT_VIEW, account)
    page = Paginator(audit_event_list_for_account(account_id=account.pk, limit=None), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "accounts/account_history.html", {"account": account, "page": page})
