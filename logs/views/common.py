"""What the logs' views share: account scoping, filter selects, form rendering (full page or
htmx partial), service errors on the form, the concurrent-edit panel."""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.forms import model_to_dict
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.vary import vary_on_headers

from handoff.accounts.models import Account
from handoff.accounts.selectors import account_get
from handoff.permissions import Action, can

# htmx event that makes a log's rows reload themselves (after an item is added).
CHANGED_EVENT = "logs-changed"

# A list's URL answers with its rows to htmx and with the page otherwise: the browser must keep
# the two apart, or Back to a filtered list (whose URL htmx pushed) shows the cached rows alone.
rows_or_page = vary_on_headers("HX-Request")


def account_or_404(account_id: int) -> Account:
    try:
        return account_get(account_id=account_id)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None


def scoped_or_404(getter, *args, **kwargs):
    """Fetch a row by id *within the account of the URL*: another account's id is a 404."""
    try:
        return getter(*args, **kwargs)
    except ObjectDoesNotExist:
        raise Http404("Not found in this account.") from None


def with_edit_permission(items: list, user, account: Account, action=Action.LOG_EDIT) -> list:
    for item in items:
        item.can_edit = can(user, action, account, obj=item)
    return items


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: beside the field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def bound_from_instance(form_class, instance, overrides: dict[str, Any], **kwargs):
    """A form bound to the row's current values plus `overrides`, validated, so its errors
    show (e.g. a status change that needs a resolution opens the edit form with the message)."""
    names = list(form_class._meta.fields)
    data = {k: ("" if v is None else v) for k, v in model_to_dict(instance, names).items()}
    data.update(overrides)
    data["version"] = instance.version
    form = form_class(data, instance=instance, **kwargs)
    form.is_valid()
    return form


def render_form(request, *, template_partial: str = "logs/_form.html", **context):
    """The same form as an htmx partial (inline add / edit) or as a page of its own."""
    if request.htmx:
        return render(request, template_partial, context)
    return render(request, "logs/form_page.html", context)


def changed(response):
    response["HX-Trigger"] = CHANGED_EVENT
    return response


@dataclass(frozen=True)
class AddReturn:
    """Where an add form goes back to: the account page's section when it was opened there
    ("Add an issue" on the account page carries `?from=account`), else the log's list. Only
    that flag is read, never a URL, so nothing can send the form off the site."""

    query: str  # for the form's action, so a plain POST keeps it
    url: str
    label: str


def add_return(request, account, *, section: str, list_url: str, list_label: str) -> AddReturn:
    if request.GET.get("from") == "account":
        url = reverse("accounts:detail", args=[account.pk]) + f"#{section}"
        return AddReturn(query="?from=account", url=url, label=account.name)
    return AddReturn(query="", url=list_url, label=list_label)


def created_response(request, *, message: str, list_url: str):
    """After an add: htmx empties the inline form slot and tells the list to refresh; a plain
    POST goes back to the list with the message."""
    if request.htmx:
        return changed(render(request, "logs/_form_done.html", {"message": message}))
    messages.success(request, message)
    return redirect(list_url)
