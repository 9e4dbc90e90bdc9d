from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from handoff import registry
from handoff.accounts.forms import AccountFilterForm, AccountForm
from handoff.accounts.inbox import inbox_get
from handoff.accounts.models import Account
from handoff.accounts.selectors import account_list_for_dashboard
from handoff.accounts.services import ACCOUNT_FIELDS, account_create, account_update
from handoff.audit.selectors import audit_event_list_for_account
from handoff.closeout.attention import attention_items
from handoff.closeout.review import changes_since_review
from handoff.closeout.selectors import handoff_review_get
from handoff.common.conflicts import conflict_resolve
from handoff.common.messages import saved_message
from handoff.common.services import ConcurrentEditError, submission_once
from handoff.people.models import User
from handoff.people.selectors import user_list_by_role
from handoff.permissions import Action, can, record_keeper_sentence, require
from handoff.record import account_record_get


def my_work_view(request):
    """The landing page: what needs me (handoff/accounts/inbox.py). Links shared before the
    dashboard moved to /accounts/ carry its filters: they still open the dashboard."""
    if request.GET:
        return redirect(f"{reverse('accounts:dashboard')}?{request.GET.urlencode()}")
    context = {
        "inbox": inbox_get(request.user),
        "columns": registry.columns(),
        "inbox_counts": registry.inbox_counts(),
    }
    return render(request, "accounts/my_work.html", context)


def my_work_count_view(request):
    """The top bar's "My work (3)", loaded by htmx after the page, so no page pays for it. The
    same lists as My work, without the records: what a list holds never depends on them."""
    inbox = inbox_get(request.user, records=False)
    return render(request, "accounts/_my_work_link.html", {"inbox": inbox})


def my_accounts_view(request):
    """The former "My accounts" page is the dashboard's "Only accounts that name me" filter;
    its links' other filters carry over."""
    query = request.GET.copy()
    query["mine"] = "on"
    return redirect(f"{reverse('accounts:dashboard')}?{query.urlencode()}")


@vary_on_headers("HX-Request")  # the rows alone or the page: Back must not get the rows alone
def dashboard_view(request):
    engineers = list(user_list_by_role(role=User.Role.IMPLEMENTATION_ENGINEER))
    advisors = list(user_list_by_role(role=User.Role.TECHNICAL_ADVISOR))
    form = AccountFilterForm(
        request.GET, engineers=engineers, advisors=advisors, viewer=request.user
    )
    filters = form.filters()
    mine = filters.pop("mine")
    filters["involving_user_id"] = request.user.pk if mine else None
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
        "filter_form": form,
        "can_create": can(request.user, Action.ACCOUNT_CREATE),
        "columns": registry.columns(),
    }
    template = "accounts/_account_rows.html" if request.htmx else "accounts/dashboard.html"
    return render(request, template, context)


def _vitally_search_url() -> str:
    """The search over Vitally's accounts the Vitally field offers, when the sync is installed."""
    return reverse("vitally_sync:account_search") if apps.is_installed("vitally_sync") else ""


@require_http_methods(["GET", "POST"])
def account_create_view(request):
    require(request.user, Action.ACCOUNT_CREATE)
    initial = (
        {"implementation_engineer": request.user} if request.user.is_implementation_engineer else {}
    )
    form = AccountForm(
        request.POST or None,
        user=request.user,
        initial=initial,
        vitally_search_url=_vitally_search_url(),
    )
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
    form = AccountForm(
        request.POST or None,
        instance=account,
        user=request.user,
        vitally_search_url=_vitally_search_url(),
    )
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
            conflict = conflict_resolve(form, error)
        except ValidationError as error:
            # Another account took the Vitally account (or name) since the form checked it.
            form.add_error(None, error)
        else:
            saved_message(request, "Account saved.", account_id=account.pk)
            return redirect("accounts:detail", account_id=account.pk)
    return render(
        request,
        "accounts/account_form.html",
        {"form": form, "account": account, "creating": False, "conflict": conflict},
    )


@require_GET
def account_detail_view(request, account_id: int):
    """The account page: the record in one place. A compact top (people, where the handoff
    stands, readiness by rule, what needs attention), then each contribution's section as a
    summary linking to its full list; History and the Vitally details have pages of their own."""
    try:
        record = account_record_get(account_id)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None
    account = record.account
    require(request.user, Action.ACCOUNT_VIEW, account)
    sections = [
        {"section": s, "context": s.context(record, request.user)} for s in registry.sections()
    ]
    # The top shows where the handoff stands from the closeout section's own context.
    panel = next(item["context"] for item in sections if item["section"].key == "closeout")
    review = handoff_review_get(account_id=account.pk, reviewer_id=request.user.pk)
    # What this viewer may do on the page comes from the one permissions dict (the closeout
    # section's), asked of handoff/permissions.py once.
    can_edit = panel["can"]["edit_account"]
    return render(
        request,
        "accounts/account_detail.html",
        {
            "account": account,
            "panel": panel,
            "readiness": record.readiness,
            "attention": attention_items(record),
            "review": review,
            "changes": changes_since_review(account_id=account.pk, review=review)
            if review
            else None,
            "sections": sections,
            "sign_offs": record.sign_offs,
            "columns": [c for c in registry.columns() if c.on_account_page],
            "can_edit": can_edit,
            "read_only": "" if can_edit else _read_only(request.user, account),
        },
    )


def _read_only(user, account) -> str:
    """Who keeps the record, and what this viewer may still do on it: anyone signed in adds
    implementation notes (the page offers "Add a note"), and an item's owner updates it."""
    sentence = record_keeper_sentence(account)
    if can(user, Action.JOURNAL_ADD, account):
        sentence += (
            " You can still add implementation notes, and update the issues, risks and"
            " opportunities you own."
        )
    return sentence


def account_history_view(request, account_id: int):
    """Every recorded change of the account, newest first, a page at a time."""
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, Action.ACCOUNT_VIEW, account)
    page = Paginator(audit_event_list_for_account(account_id=account.pk, limit=None), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "accounts/account_history.html", {"account": account, "page": page})
