"""Issues Log: list (filters, inline add / edit / status), item page with dated updates, CSV."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from handoff.common.services import submission_once
from handoff.permissions import Action, can, require
from logs.csv_export import csv_response
from logs.forms import (
    ISSUE_STATUS_FILTERS,
    IssueFilterForm,
    IssueForm,
    IssueNoteForm,
    IssueStatusForm,
)
from logs.models import Issue
from logs.selectors import issue_get, issue_list, issue_note_list, item_history
from logs.services import (
    ISSUE_FIELDS,
    issue_create,
    issue_note_add,
    issue_status_change,
    issue_update,
)
from logs.views.common import (
    account_or_404,
    add_service_errors,
    bound_from_instance,
    create_form_save,
    created_response,
    edit_form_save,
    owner_filter,
    render_form,
    scoped_or_404,
    with_edit_permission,
)

COLUMNS = 9
STATUS_ERROR = "Choose one of the statuses."


def _issue(request, account_id: int, issue_id: int, action=Action.LOG_EDIT):
    account = account_or_404(account_id)
    issue = scoped_or_404(issue_get, account_id=account.pk, issue_id=issue_id)
    require(request.user, action, account, obj=issue if action == Action.LOG_EDIT else None)
    return account, issue


def _row(request, account, issue, *, status_error: str = ""):
    with_edit_permission([issue], request.user, account)
    return render(
        request,
        "logs/_issue_row.html",
        {
            "account": account,
            "issue": issue,
            "statuses": Issue.Status.choices,
            "status_error": status_error,
        },
    )


def issue_list_view(request, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.ACCOUNT_VIEW, account)
    filters = IssueFilterForm(request.GET).filters()
    issues = with_edit_permission(
        list(issue_list(account_id=account.pk, **filters)), request.user, account
    )
    context = {
        "account": account,
        "items": issues,
        "statuses": Issue.Status.choices,
        "filtered": any(filters.values()),
        "rows_template": "logs/_issue_rows.html",
    }
    if request.htmx:
        return render(request, "logs/_issue_rows.html", context)
    list_url = reverse("logs:issue_list", args=[account.pk])
    context.update(
        {
            "log_title": "Issues Log",
            "lede": "Active problems that need resolving.",
            "list_url": list_url,
            "add_url": reverse("logs:issue_create", args=[account.pk]),
            "add_label": "New issue",
            "export_url": reverse("logs:issue_export", args=[account.pk]),
            "can_add": can(request.user, Action.LOG_EDIT, account),
            "filter_fields": [
                {
                    "name": "status",
                    "label": "Status",
                    "options": ISSUE_STATUS_FILTERS,
                    "selected": filters["status"],
                },
                {
                    "name": "severity",
                    "label": "Severity",
                    "options": Issue.Severity.choices,
                    "selected": filters["severity"],
                },
                owner_filter(filters["owner_id"]),
            ],
        }
    )
    return render(request, "logs/log_list.html", context)


@require_http_methods(["GET", "POST"])
def issue_create_view(request, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.LOG_EDIT, account)
    form = IssueForm(request.POST or None, auto_id="new-issue-%s", initial={"owner": request.user})
    list_url = reverse("logs:issue_list", args=[account.pk])
    issue = create_form_save(
        request, form, create=partial(issue_create, account=account, actor=request.user)
    )
    if issue is not None:
        message = f"{issue.reference} “{issue.title}” added to the Issues Log."
        return created_response(request, message=message, list_url=list_url)
    return render_form(
        request,
        form=form,
        account=account,
        heading="New issue",
        submit_label="Add issue",
        action_url=reverse("logs:issue_create", args=[account.pk]),
        hx_target="#log-form-slot",
        hx_swap="innerHTML",
        back_url=list_url,
        back_label="Issues Log",
    )


@require_http_methods(["GET", "POST"])
def issue_edit_view(request, account_id: int, issue_id: int):
    account, issue = _issue(request, account_id, issue_id)
    form = IssueForm(request.POST or None, instance=issue, auto_id=f"issue-{issue.pk}-%s")
    saved, conflict = edit_form_save(
        request,
        form,
        fields=ISSUE_FIELDS,
        update=partial(issue_update, issue=issue, actor=request.user),
    )
    if saved is not None:
        issue = saved
        if request.htmx:
            return _row(request, account, issue_get(account_id=account.pk, issue_id=issue.pk))
        messages.success(request, f"{issue.reference} saved.")
        return redirect(issue)
    return _edit_response(request, account, issue, form, conflict)


def _edit_response(request, account, issue, form, conflict=None):
    return render_form(
        request,
        template_partial="logs/_edit_row.html",
        form=form,
        account=account,
        item=issue,
        conflict=conflict,
        colspan=COLUMNS,
        heading=f"Edit {issue.reference}",
        submit_label="Save issue",
        action_url=reverse("logs:issue_edit", args=[account.pk, issue.pk]),
        hx_target=f"#issue-{issue.pk}",
        hx_swap="outerHTML",
        cancel_url=reverse("logs:issue_row", args=[account.pk, issue.pk]),
        back_url=issue.get_absolute_url(),
        back_label=issue.reference,
    )


def issue_row_view(request, account_id: int, issue_id: int):
    account, issue = _issue(request, account_id, issue_id, action=Action.ACCOUNT_VIEW)
    return _row(request, account, issue)


@require_POST
def issue_status_view(request, account_id: int, issue_id: int):
    account, issue = _issue(request, account_id, issue_id)
    form = IssueStatusForm(request.POST)
    if not form.is_valid():
        if request.htmx:  # the row again, its select marked with the message beside it
            return _row(request, account, issue, status_error=STATUS_ERROR)
        messages.error(request, STATUS_ERROR)
        return redirect(issue)
    try:
        issue = issue_status_change(
            issue=issue,
            actor=request.user,
            status=form.cleaned_data["status"],
            resolution=form.cleaned_data["resolution"],
        )
    except ValidationError:
        # Resolving needs a resolution: open the edit form with the message beside the field.
        edit_form = bound_from_instance(
            IssueForm,
            issue,
            {"status": form.cleaned_data["status"]},
            auto_id=f"issue-{issue.pk}-%s",
        )
        return _edit_response(request, account, issue, edit_form)
    if request.htmx:
        return _row(request, account, issue_get(account_id=account.pk, issue_id=issue.pk))
    messages.success(request, f"{issue.reference} is now {issue.get_status_display().lower()}.")
    return redirect(issue)


def issue_detail_view(request, account_id: int, issue_id: int):
    account, issue = _issue(request, account_id, issue_id, action=Action.ACCOUNT_VIEW)
    return render(
        request,
        "logs/issue_detail.html",
        _detail_context(request, account, issue, note_form=IssueNoteForm()),
    )


def _detail_context(request, account, issue, *, note_form):
    return {
        "account": account,
        "issue": issue,
        "notes": issue_note_list(issue_id=issue.pk),
        "note_form": note_form,
        "history": item_history(obj=issue),
        "can_edit": can(request.user, Action.LOG_EDIT, account, obj=issue),
        "statuses": Issue.Status.choices,
    }


@require_POST
def issue_note_add_view(request, account_id: int, issue_id: int):
    account, issue = _issue(request, account_id, issue_id)
    form = IssueNoteForm(request.POST)
    if form.is_valid():
        try:
            with submission_once(form=form, user=request.user):
                issue_note_add(issue=issue, actor=request.user, body=form.cleaned_data["body"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, "Update added.")
                return redirect(issue.get_absolute_url() + "#updates")
            form = IssueNoteForm()
    context = _detail_context(request, account, issue, note_form=form)
    if request.htmx:
        return render(request, "logs/_issue_notes.html", context)
    return render(request, "logs/issue_detail.html", context)


def issue_export_view(request, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.ACCOUNT_VIEW, account)
    issues = issue_list(account_id=account.pk, **IssueFilterForm(request.GET).filters())
    header = [
        "Number",
        "Title",
        "Severity",
        "Status",
        "Owner",
        "Raised by",
        "Raised",
        "Target date",
        "External ticket link",
        "Description",
        "Resolution",
        "Resolved date",
        "Days open",
        "From risk",
    ]
    rows = (
        [
            i.reference,
            i.title,
            i.get_severity_display(),
            i.get_status_display(),
            i.owner,
            i.raised_by,
            i.raised_at,
            i.target_date,
            i.external_ticket_url,
            i.description,
            i.resolution,
            i.resolved_on,
            i.days_open,
            i.source_risk.reference if hasattr(i, "source_risk") else "",
        ]
        for i in issues
    )
    return csv_response(account=account, log="issues", header=header, rows=rows)
