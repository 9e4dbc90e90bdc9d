"""The Markdown export, the checklist (inline, htmx), the workflow actions, and the old
handoff page's redirect.
Thin: parse, ask handoff/permissions.py, call one service, render or redirect."""

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from handoff.accounts.models import Account
from handoff.accounts.selectors import account_get
from handoff.closeout import notifications, services
from handoff.closeout.attention import attention_items
from handoff.closeout.forms import ChecklistItemForm, ReopenForm, SignOffForm
from handoff.closeout.markdown import (
    handoff_markdown_text,
    markdown_to_html,
    signed_snapshot_markdown,
)
from handoff.closeout.models import ChecklistItem, SignOff
from handoff.closeout.readiness import awaits_request
from handoff.closeout.selectors import (
    checklist_item_get,
    sign_off_get,
    sign_off_latest_get,
)
from handoff.closeout.snapshot import snapshot_digest
from handoff.common.conflicts import conflict_resolve
from handoff.common.services import ConcurrentEditError
from handoff.mail.selectors import email_latest_get, email_outcome
from handoff.permissions import Action, require
from handoff.record import AccountRecord, account_record_get


def _account(account_id: int) -> Account:
    try:
        return account_get(account_id=account_id)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None


def _record(account_id: int, *, for_snapshot: bool = False) -> AccountRecord:
    try:
        return account_record_get(account_id, for_snapshot=for_snapshot)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None


def _back(request, account: Account, fragment: str = ""):
    """Back to where the person clicked (the account page by default), never off-site. Only a path
    of this site is followed: redirect() would look anything else up as a view name, and a
    `next` such as "a[b]" was a NoReverseMatch (a 500)."""
    target = request.POST.get("next", "")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("accounts:detail", args=[account.pk])
    return HttpResponseRedirect(target + (f"#{fragment}" if fragment and "#" not in target else ""))


# --- The old handoff page ---------------------------------------------------------------------
@require_GET
def handoff_page_view(request, account_id: int):
    """The handoff page is now part of the account page: old links and bookmarks land there
    (a browser keeps the #fragment across the redirect)."""
    return redirect("accounts:detail", account_id=account_id, permanent=True)


def _markdown_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def handoff_markdown_view(request, account_id: int):
    record = _record(account_id, for_snapshot=True)
    account = record.account
    require(request.user, Action.ACCOUNT_VIEW, account)
    filename = f"handoff-{slugify(account.name) or account.pk}.md"
    return _markdown_response(handoff_markdown_text(record), filename)


# --- Checklist -----------------------------------------------------------------------------------
@require_POST
def checklist_start_view(request, account_id: int):
    account = _account(account_id)
    require(request.user, Action.CHECKLIST_START, account)
    try:
        items = services.checklist_start(account=account, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Closeout checklist started with {len(items)} items.")
    return _back(request, account, "closeout")


@require_http_methods(["GET", "POST"])
def checklist_item_update_view(request, account_id: int, item_id: int):
    try:
        item = checklist_item_get(account_id=account_id, item_id=item_id)
    except ChecklistItem.DoesNotExist:
        raise Http404("No such checklist item on this account.") from None
    account = _account(account_id)
    require(request.user, Action.CHECKLIST_EDIT, account)
    # The form validates a copy: an invalid post must not change the item shown beside it.
    form = ChecklistItemForm(request.POST or None, instance=copy.copy(item))
    saved, conflict = False, ""
    its_page = reverse("closeout:checklist_item", args=[account_id, item_id])
    on_its_page = not request.htmx or _from(request, its_page)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.CHECKLIST_ITEM_FIELDS}
        try:
            item = services.checklist_item_update(
                item=item, actor=request.user, data=data, expected_version=form.expected_version()
            )
        except ConcurrentEditError as error:
            # Show what is saved now, in a form carrying the current version.
            item = checklist_item_get(account_id=account_id, item_id=item_id)
            if on_its_page:
                # The item's own page answers with the one conflict panel (theirs beside
                # yours, a choice per field), in a form of its own above the item.
                resolved = conflict_resolve(form, error, current=item)
                page = {"account": account, "item": item, "conflict": resolved}
                page |= {"form": ChecklistItemForm(instance=item), "conflict_form": form}
                if request.htmx:
                    response = render(request, "closeout/_checklist_item_page.html", page)
                    return reswap(retarget(response, "#checklist-item-page"), "outerHTML")
                return render(request, "closeout/checklist_item_form.html", page)
            form = ChecklistItemForm(instance=item)
            conflict = error.messages[0]
        except ValidationError as error:
            form.add_error(None, error)
        else:
            saved = True
            if not request.htmx:
                messages.success(request, f"Checklist item “{item.title}” saved.")
                return redirect(item.get_absolute_url())
            form = ChecklistItemForm(instance=item)
    context = {"account": account, "item": item, "form": form, "saved": saved, "conflict": conflict}
    if request.htmx:
        if saved:
            # Readiness and progress changed with the item: refresh them too (out-of-band).
            current = _record(account_id)
            items = current.checklist
            context["readiness"] = current.readiness
            context["progress"] = {
                "settled": sum(1 for i in items if i.is_settled),
                "total": len(items),
            }
        return render(request, "closeout/_checklist_item_response.html", context)
    return render(request, "closeout/checklist_item_form.html", context)


def _from(request, path: str) -> bool:
    """Whether an htmx request was sent from the page at `path`."""
    current = request.htmx.current_url_abs_path or ""
    return current.split("?")[0].split("#")[0] == path


# --- Phases and acknowledgements ---------------------------------------------------------------
def _simple_action(
    request, account_id: int, action: Action, run, success: str, email_kind: str = ""
):
    """`email_kind`: the e-mail the action sends; the message says what became of it."""
    account = _account(account_id)
    require(request.user, action, account)
    started = timezone.now()
    try:
        run(account=account, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if email_kind:
            email = email_latest_get(account_id=account.pk, kind=email_kind, since=started)
            success = f"{success} {email_outcome(email)}"
        messages.success(request, success)
    return _back(request, account, "handoff-status")


@require_GET
def handoff_request_confirm_view(request, account_id: int):
    """ "Request handoff" asks first, on the server: what readiness still lacks now, one line per
    rule as the readiness block has it (but the technical advisor's acknowledgement, which comes
    after the request). htmx puts it under the button; without JavaScript it is a page."""
    record = _record(account_id)
    account = record.account
    require(request.user, Action.HANDOFF_REQUEST, account)
    readiness = record.readiness
    unmet = readiness.before_request(account)
    context = {
        "account": account,
        "unmet": unmet,
        "after_request": any(awaits_request(result, account) for result in readiness.unmet),
        "next": _next_path(request, account),
        "inline": bool(request.htmx),
    }
    template = "closeout/_handoff_request_confirm.html" if request.htmx else None
    return render(request, template or "closeout/handoff_request_confirm.html", context)


def _next_path(request, account: Account) -> str:
    """Where the confirmation goes back to (a path of this site), for its form and Cancel."""
    target = request.GET.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("accounts:detail", args=[account.pk])


@require_POST
def handoff_request_view(request, account_id: int):
    account = _account(account_id)
    require(request.user, Action.HANDOFF_REQUEST, account)
    started = timezone.now()
    try:
        services.handoff_request(account=account, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back(request, account, "handoff-status")
    email = email_latest_get(
        account_id=account.pk, kind=notifications.HANDOFF_REQUESTED, since=started
    )
    notice = notifications.handoff_requested_notice(account=account, email=email)
    # What is missing stays in view, in the readiness block's unit: the status panel says how
    # many rules are not met and links to them.
    readiness = _record(account_id).readiness
    remain = ""
    if readiness.unmet:
        they = "it is" if len(readiness.unmet) == 1 else "they are"
        remain = (
            f" {readiness.unmet_text.capitalize()}: the manager signs off once {they} met, or "
            "by overriding what is missing."
        )
    messages.success(request, f"Handoff requested. {notice}{remain}")
    return _back(request, account, "handoff-status")


@require_POST
def handoff_withdraw_view(request, account_id: int):
    return _simple_action(
        request,
        account_id,
        Action.HANDOFF_WITHDRAW,
        services.handoff_withdraw,
        "Handoff request withdrawn: the account is back in implementation.",
    )


@require_POST
def handoff_acknowledge_view(request, account_id: int):
    return _simple_action(
        request,
        account_id,
        Action.HANDOFF_ACKNOWLEDGE,
        services.handoff_acknowledge,
        "You acknowledged this account.",
    )


@require_POST
def handoff_mark_reviewed_view(request, account_id: int):
    account = _account(account_id)
    require(request.user, Action.HANDOFF_MARK_REVIEWED, account)
    services.handoff_mark_reviewed(account=account, actor=request.user)
    messages.success(request, "Marked reviewed. Changes from now on will be listed here.")
    return _back(request, account, "changes")


# --- Sign-off and reopening --------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def sign_off_view(request, account_id: int):
    account = _account(account_id)
    require(request.user, Action.CLOSEOUT_SIGN_OFF, account)
    form = SignOffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        started = timezone.now()
        try:
            signed = services.closeout_sign_off(
                account=account,
                actor=request.user,
                override_reason=form.cleaned_data["override_reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            email = email_latest_get(
                account_id=account.pk, kind=notifications.SIGNED_OFF, since=started
            )
            messages.success(
                request, f"{account.name} is signed off and handed off. {email_outcome(email)}"
            )
            return redirect(signed)
    record = _record(account_id)  # read after any refused sign-off: readiness may have moved
    items = record.checklist
    if form.errors:  # the refusal sits by the field at the foot of the page: take the person there
        form.fields["override_reason"].widget.attrs["autofocus"] = True
    return render(
        request,
        "closeout/sign_off_form.html",
        {
            "account": record.account,
            "form": form,
            "readiness": record.readiness,
            "attention": attention_items(record),
            "items_total": len(items),
            "items_settled": sum(1 for item in items if item.is_settled),
        },
    )


def _sign_off(account_id: int, sign_off_id: int) -> SignOff:
    try:
        return sign_off_get(account_id=account_id, sign_off_id=sign_off_id)
    except SignOff.DoesNotExist:
        raise Http404("No such sign-off on this account.") from None


@require_GET
def sign_off_detail_view(request, account_id: int, sign_off_id: int):
    signed = _sign_off(account_id, sign_off_id)
    require(request.user, Action.ACCOUNT_VIEW, signed.account)
    return render(
        request,
        "closeout/sign_off_detail.html",
        {
            "account": signed.account,
            "sign_off": signed,
            "intact": snapshot_digest(signed.snapshot) == signed.snapshot_sha256,
            # Our own Markdown of the frozen data, with every piece of user text escaped, then
            # sanitised by nh3 to plain tags and http(s) links.
            "snapshot_html": markdown_to_html(signed_snapshot_markdown(signed)),
        },
    )


@require_GET
def sign_off_markdown_view(request, account_id: int, sign_off_id: int):
    signed = _sign_off(account_id, sign_off_id)
    require(request.user, Action.ACCOUNT_VIEW, signed.account)
    name = slugify(signed.snapshot_account_name) or str(account_id)
    filename = f"sign-off-{name}-{signed.signed_at:%Y-%m-%d}.md"
    return _markdown_response(signed_snapshot_markdown(signed), filename)


@require_http_methods(["GET", "POST"])
def reopen_view(request, account_id: int):
    account = _account(account_id)
    require(request.user, Action.CLOSEOUT_REOPEN, account)
    form = ReopenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        started = timezone.now()
        try:
            services.closeout_reopen(
                account=account, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            email = email_latest_get(
                account_id=account.pk, kind=notifications.REOPENED, since=started
            )
            messages.success(
                request,
                f"{account.name} is reopened and back in implementation. {email_outcome(email)}",
            )
            return redirect("accounts:detail", account_id=account.pk)
    return render(
        request,
        "closeout/reopen_form.html",
        {
            "account": account,
            "form": form,
            "latest_sign_off": sign_off_latest_get(account_id=account.pk),
        },
    )
