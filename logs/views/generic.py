"""How a log page works: one `LogSpec` per log (issues.py, risks.py, opportunities.py) and the
views below, which serve any of them. `log_urls(spec)` gives a log's URLs:

    list    accounts/<id>/issues/             the rows and their filters (htmx: the rows only)
    create  accounts/<id>/issues/new/         the add form (htmx: inline above the rows)
    export  accounts/<id>/issues/export.csv   the filtered rows as CSV
    detail  accounts/<id>/issues/<id>/        the item's page and its history
    row     accounts/<id>/issues/<id>/row/    one row (what "Cancel" on an inline edit puts back)
    edit    accounts/<id>/issues/<id>/edit/   the edit form (htmx: in place of the row)
    status  accounts/<id>/issues/<id>/status/ the row's one-click status (an opportunity's stage)

Each view parses its input with a form, checks the permission on the server, calls one
service or selector that the spec names (with explicit keywords), then renders or redirects.
What one log alone does (the issue's dated updates, the risk's "It happened") stays in that
log's module, built from the same helpers."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Model
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from handoff.common.conflicts import conflict_resolve
from handoff.common.forms import FilterForm
from handoff.common.messages import saved_message
from handoff.common.services import ConcurrentEditError, submission_once
from handoff.permissions import Action, can, require
from logs.csv_export import csv_response
from logs.selectors import item_history_list
from logs.views.common import (
    account_or_404,
    add_return,
    add_service_errors,
    bound_from_instance,
    created_response,
    render_form,
    rows_or_page,
    scoped_or_404,
    with_edit_permission,
)


# The labels of a log whose items have a reference ("I-3", "R-2"); a spec may replace them.
def _saved(item) -> str:
    return f"{item.reference} saved."


def _status_changed(item) -> str:
    return f"{item.reference} is now {item.get_status_display().lower()}."


def _edit_heading(item) -> str:
    return f"Edit {item.reference}"


def _reference(item) -> str:
    return item.reference


@dataclass(frozen=True)
class LogSpec:
    """Everything that differs between the logs' pages. `name` ("issue") is the item's word
    everywhere: the services' keyword (`issue_update(issue=...)`), the selectors' id keyword
    (`issue_get(issue_id=...)`), the templates' variable, the URL names (`logs:issue_edit`)
    and the rows' HTML ids (`#issue-3`)."""

    name: str
    model: type[Model]
    url_prefix: str  # accounts/<id>/<url_prefix>/...
    # Forms
    form: type[forms.ModelForm]  # add and edit (an edit binds the item and checks its version)
    filter_form: type[FilterForm]  # the list's query string; its fields are the filter selects
    status_form: type[forms.Form]  # the row's select: its cleaned data are the service's keywords
    status_field: str  # "status" or "stage": the status form's field, and the URL .../status/
    # Services (logs/services.py)
    create: Callable[..., Model]  # create(account=, actor=, **form data)
    update: Callable[..., Model]  # update(<name>=, actor=, data=, expected_version=)
    change_status: Callable[..., Model]  # change_status(<name>=, actor=, **status form data)
    # Selectors (logs/selectors.py)
    list_selector: Callable[..., Any]  # list_selector(account_id=, **filters)
    get_selector: Callable[..., Model]  # get_selector(account_id=, <name>_id=)
    # Templates
    row_template: str
    rows_template: str
    detail_template: str
    columns: int  # the list's columns: the inline edit form spans them
    # CSV: the file name's log part, and (header, value of an item) per column
    csv_name: str
    csv_columns: tuple[tuple[str, Callable[[Any], Any]], ...]
    # Labels
    title: str  # "Issues Log"
    section: str  # its section's id on the account page ("issues-log")
    lede: str
    create_heading: str
    status_error: str  # beside the row's select when its value is not one of the choices
    created_message: Callable[[Any], str]
    saved_message: Callable[[Any], str] = _saved
    status_message: Callable[[Any], str] = _status_changed
    edit_heading: Callable[[Any], str] = _edit_heading
    back_label: Callable[[Any], str] = _reference  # the edit page's link back to the item
    # Permission to add, edit and change the status (reading needs ACCOUNT_VIEW)
    action: Action = Action.LOG_EDIT

    def __post_init__(self):
        if self.form._meta.model is not self.model:
            raise ImproperlyConfigured(f"The {self.name} log's form edits another model.")

    def url(self, page: str, *args) -> str:
        return reverse(f"logs:{self.name}_{page}", args=args)

    @property
    def status_choices(self) -> list:
        """What the row's select offers: exactly what the status form accepts."""
        return self.status_form.base_fields[self.status_field].choices

    def get(self, account, item_id: int):
        return self.get_selector(account_id=account.pk, **{f"{self.name}_id": item_id})


def log_urls(spec: LogSpec, *, detail=None) -> list:
    """The URLs of the generic pages; `detail` replaces the item page (the issue's has updates)."""
    log = f"accounts/<int:account_id>/{spec.url_prefix}"
    item = f"{log}/<int:item_id>"
    kwargs = {"spec": spec}
    return [
        path(f"{log}/", list_view, kwargs, name=f"{spec.name}_list"),
        path(f"{log}/new/", create_view, kwargs, name=f"{spec.name}_create"),
        path(f"{log}/export.csv", export_view, kwargs, name=f"{spec.name}_export"),
        path(f"{item}/", detail or detail_view, kwargs, name=f"{spec.name}_detail"),
        path(f"{item}/row/", row_view, kwargs, name=f"{spec.name}_row"),
        path(f"{item}/edit/", edit_view, kwargs, name=f"{spec.name}_edit"),
        path(
            f"{item}/{spec.status_field}/",
            status_view,
            kwargs,
            name=f"{spec.name}_{spec.status_field}",
        ),
    ]


# --- Helpers the views (and the logs' own views) share ----------------------------------------
def item_or_404(request, spec: LogSpec, account_id: int, item_id: int, *, edit: bool):
    """The account and the item (a 404 outside that account); then the permission: to edit
    this item, or to view the account."""
    account = account_or_404(account_id)
    item = scoped_or_404(spec.get, account, item_id)
    if edit:
        require(request.user, spec.action, account, obj=item)
    else:
        require(request.user, Action.ACCOUNT_VIEW, account)
    return account, item


def render_row(request, spec: LogSpec, account, item, *, status_error: str = "", saved=False):
    """`saved`: the row after an inline status change, with "Saved" beside the control."""
    with_edit_permission([item], request.user, account, action=spec.action)
    context = {"statuses": spec.status_choices, "status_error": status_error, "saved": saved}
    return render(request, spec.row_template, {"account": account, spec.name: item, **context})


def detail_context(request, spec: LogSpec, account, item) -> dict:
    return {
        "account": account,
        spec.name: item,
        "history": item_history_list(obj=item),
        "can_edit": can(request.user, spec.action, account, obj=item),
        "statuses": spec.status_choices,
    }


def edit_form_response(request, spec: LogSpec, account, item, form, conflict=None):
    """The edit form: in place of the row (htmx) or as a page of its own."""
    return render_form(
        request,
        template_partial="logs/_edit_row.html",
        form=form,
        account=account,
        item=item,
        conflict=conflict,
        colspan=spec.columns,
        heading=spec.edit_heading(item),
        submit_label=f"Save {spec.name}",
        action_url=spec.url("edit", account.pk, item.pk),
        hx_target=f"#{spec.name}-{item.pk}",
        hx_swap="outerHTML",
        cancel_url=spec.url("row", account.pk, item.pk),
        back_url=item.get_absolute_url(),
        back_label=spec.back_label(item),
    )


# --- The pages ----------------------------------------------------------------------------------
@rows_or_page
def list_view(request, spec: LogSpec, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.ACCOUNT_VIEW, account)
    filter_form = spec.filter_form(request.GET, viewer=request.user)
    filters = filter_form.filters()
    items = list(spec.list_selector(account_id=account.pk, **filters))
    context = {
        "account": account,
        "items": with_edit_permission(items, request.user, account, action=spec.action),
        "statuses": spec.status_choices,
        "filter_form": filter_form,
        "rows_template": spec.rows_template,
    }
    if request.htmx:
        return render(request, spec.rows_template, context)
    context.update(
        {
            "log_title": spec.title,
            "lede": spec.lede,
            "list_url": spec.url("list", account.pk),
            "add_url": spec.url("create", account.pk),
            "add_label": f"New {spec.name}",
            "export_url": spec.url("export", account.pk),
            "can_add": can(request.user, spec.action, account),
        }
    )
    return render(request, "logs/log_list.html", context)


@require_http_methods(["GET", "POST"])
def create_view(request, spec: LogSpec, account_id: int):
    account = account_or_404(account_id)
    require(request.user, spec.action, account)
    form = spec.form(
        request.POST or None, auto_id=f"new-{spec.name}-%s", initial={"owner": request.user}
    )
    back = add_return(
        request,
        account,
        section=spec.section,
        list_url=spec.url("list", account.pk),
        list_label=spec.title,
    )
    if request.method == "POST" and form.is_valid():
        try:
            with submission_once(form=form, user=request.user):
                item = spec.create(account=account, actor=request.user, **form.service_data())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            message = spec.created_message(item)
            return created_response(request, message=message, list_url=back.url)
    return render_form(
        request,
        form=form,
        account=account,
        heading=spec.create_heading,
        submit_label=f"Add {spec.name}",
        action_url=spec.url("create", account.pk) + back.query,
        hx_target="#log-form-slot",
        hx_swap="innerHTML",
        back_url=back.url,
        back_label=back.label,
    )


@require_http_methods(["GET", "POST"])
def edit_view(request, spec: LogSpec, account_id: int, item_id: int):
    account, item = item_or_404(request, spec, account_id, item_id, edit=True)
    form = spec.form(request.POST or None, instance=item, auto_id=f"{spec.name}-{item.pk}-%s")
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = spec.update(
                **{spec.name: item},
                actor=request.user,
                data=form.service_data(),
                expected_version=form.expected_version(),
            )
        except ConcurrentEditError as error:  # someone saved meanwhile: show their values
            conflict = conflict_resolve(form, error)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if request.htmx:
                return render_row(request, spec, account, spec.get(account, saved.pk))
            saved_message(request, spec.saved_message(saved), account_id=account.pk)
            return redirect(saved)
    return edit_form_response(request, spec, account, item, form, conflict)


def row_view(request, spec: LogSpec, account_id: int, item_id: int):
    account, item = item_or_404(request, spec, account_id, item_id, edit=False)
    return render_row(request, spec, account, item)


@require_POST
def status_view(request, spec: LogSpec, account_id: int, item_id: int):
    account, item = item_or_404(request, spec, account_id, item_id, edit=True)
    form = spec.status_form(request.POST)
    if not form.is_valid():
        if request.htmx:  # the row again, its select marked with the message beside it
            return render_row(request, spec, account, item, status_error=spec.status_error)
        messages.error(request, spec.status_error)
        return redirect(item)
    try:
        item = spec.change_status(**{spec.name: item}, actor=request.user, **form.cleaned_data)
    except ValidationError:
        # e.g. resolving an issue needs a resolution: the edit form, the message beside it
        status = {spec.status_field: form.cleaned_data[spec.status_field]}
        edit_form = bound_from_instance(
            spec.form, item, status, auto_id=f"{spec.name}-{item.pk}-%s"
        )
        return edit_form_response(request, spec, account, item, edit_form)
    if request.htmx:
        return render_row(request, spec, account, spec.get(account, item.pk), saved=True)
    messages.success(request, spec.status_message(item))
    return redirect(item)


def detail_view(request, spec: LogSpec, account_id: int, item_id: int):
    account, item = item_or_404(request, spec, account_id, item_id, edit=False)
    return render(request, spec.detail_template, detail_context(request, spec, account, item))


def export_view(request, spec: LogSpec, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.ACCOUNT_VIEW, account)
    filters = spec.filter_form(request.GET, viewer=request.user).filters()
    items = spec.list_selector(account_id=account.pk, **filters)
    header = [header for header, _ in spec.csv_columns]
    rows = ([value(item) for _, value in spec.csv_columns] for item in items)
    return csv_response(account=account, log=spec.csv_name, header=header, rows=rows)
