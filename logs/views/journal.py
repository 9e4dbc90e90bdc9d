"""Implementation notes: the journal list (filters, inline add / edit), CSV."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from handoff.common.conflicts import conflict_resolve
from handoff.common.services import ConcurrentEditError, submission_once
from handoff.permissions import Action, can, require
from logs.csv_export import csv_response
from logs.forms import JournalEntryForm, JournalFilterForm
from logs.models import JournalEntry
from logs.selectors import journal_edit_history_get, journal_entry_get, journal_entry_list
from logs.services import journal_entry_create, journal_entry_update
from logs.views.common import (
    account_or_404,
    add_return,
    add_service_errors,
    created_response,
    render_form,
    rows_or_page,
    scoped_or_404,
    with_edit_permission,
)


def _entries_context(request, account, entries: list[JournalEntry]) -> dict:
    with_edit_permission(entries, request.user, account, action=Action.JOURNAL_EDIT)
    history = journal_edit_history_get(account_id=account.pk, entry_ids=[e.pk for e in entries])
    for entry in entries:
        entry.corrections = history.get(entry.pk, [])
    return {"account": account, "items": entries, "rows_template": "logs/_journal_entries.html"}


@rows_or_page
def journal_list_view(request, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.ACCOUNT_VIEW, account)
    filter_form = JournalFilterForm(request.GET, viewer=request.user)
    filters = filter_form.filters()
    entries = list(journal_entry_list(account_id=account.pk, **filters))
    context = {
        **_entries_context(request, account, entries),
        "filter_form": filter_form,
    }
    if request.htmx:
        return render(request, "logs/_journal_entries.html", context)
    context.update(
        {
            "log_title": "Implementation notes",
            "lede": "The implementation's journal: upper limits discussed, special deployment "
            "details, significant errors, engineering involvement. Anyone signed in may add a "
            "note; corrections keep the earlier text.",
            "list_url": reverse("logs:journal_list", args=[account.pk]),
            "add_url": reverse("logs:journal_create", args=[account.pk]),
            "add_label": "New note",
            "export_url": reverse("logs:journal_export", args=[account.pk]),
            "can_add": can(request.user, Action.JOURNAL_ADD, account),
        }
    )
    return render(request, "logs/log_list.html", context)


@require_http_methods(["GET", "POST"])
def journal_create_view(request, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.JOURNAL_ADD, account)
    form = JournalEntryForm(request.POST or None, auto_id="new-note-%s")
    back = add_return(
        request,
        account,
        section="implementation-notes",
        list_url=reverse("logs:journal_list", args=[account.pk]),
        list_label="Implementation notes",
    )
    if request.method == "POST" and form.is_valid():
        try:
            with submission_once(form=form, user=request.user):
                entry = journal_entry_create(
                    account=account, author=request.user, **form.service_data()
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            message = f"Implementation note “{entry.title}” added."
            return created_response(request, message=message, list_url=back.url)
    return render_form(
        request,
        form=form,
        account=account,
        heading="New implementation note",
        submit_label="Add note",
        action_url=reverse("logs:journal_create", args=[account.pk]) + back.query,
        hx_target="#log-form-slot",
        hx_swap="innerHTML",
        back_url=back.url,
        back_label=back.label,
    )


def _entry(request, account_id: int, entry_id: int, action=Action.JOURNAL_EDIT):
    account = account_or_404(account_id)
    entry = scoped_or_404(journal_entry_get, account_id=account.pk, entry_id=entry_id)
    require(request.user, action, account, obj=entry if action == Action.JOURNAL_EDIT else None)
    return account, entry


def _entry_response(request, account, entry):
    context = _entries_context(request, account, [entry])
    return render(request, "logs/_journal_entry.html", {**context, "entry": entry})


def journal_entry_view(request, account_id: int, entry_id: int):
    """One note as the list shows it (what "Cancel" on an inline edit puts back)."""
    account, entry = _entry(request, account_id, entry_id, action=Action.ACCOUNT_VIEW)
    if not request.htmx:
        return redirect(reverse("logs:journal_list", args=[account.pk]) + f"#entry-{entry.pk}")
    return _entry_response(request, account, entry)


@require_http_methods(["GET", "POST"])
def journal_edit_view(request, account_id: int, entry_id: int):
    account, entry = _entry(request, account_id, entry_id)
    form = JournalEntryForm(request.POST or None, instance=entry, auto_id=f"note-{entry.pk}-%s")
    list_url = reverse("logs:journal_list", args=[account.pk])
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = journal_entry_update(
                entry=entry,
                actor=request.user,
                data=form.service_data(),
                expected_version=form.expected_version(),
            )
        except ConcurrentEditError as error:
            conflict = conflict_resolve(form, error)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if request.htmx:
                fresh = journal_entry_get(account_id=account.pk, entry_id=saved.pk)
                return _entry_response(request, account, fresh)
            messages.success(
                request, "Implementation note saved; the earlier text is kept in History."
            )
            return redirect(list_url + f"#entry-{saved.pk}")
    return render_form(
        request,
        template_partial="logs/_journal_edit.html",
        form=form,
        account=account,
        item=entry,
        conflict=conflict,
        heading="Edit note",
        submit_label="Save note",
        action_url=reverse("logs:journal_edit", args=[account.pk, entry.pk]),
        hx_target=f"#entry-{entry.pk}",
        hx_swap="outerHTML",
        cancel_url=reverse("logs:journal_entry", args=[account.pk, entry.pk]),
        back_url=list_url,
        back_label="Implementation notes",
    )


def journal_export_view(request, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.ACCOUNT_VIEW, account)
    entries = journal_entry_list(
        account_id=account.pk, **JournalFilterForm(request.GET, viewer=request.user).filters()
    )
    header = ["Time", "Author", "Category", "Kind", "Title", "Notes", "Reference link", "Edited"]
    rows = (
        [
            e.created_at,
            e.author,
            e.get_category_display(),
            e.get_kind_display(),
            e.title,
            e.body,
            e.reference_url,
            "yes" if e.edited else "",
        ]
        for e in entries
    )
    return csv_response(account=account, log="implementation-notes", header=header, rows=rows)
