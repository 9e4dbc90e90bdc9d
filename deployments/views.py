"""Edit pages of the deployment record. Thin: parse, ask handoff.permissions, call a service.

A row list's Add / Remove button posts the whole form with `_action=add:<rows>` (or
`remove:<rows>:<index>`); the view re-renders the form from what was posted, one row more or
less, without validating or saving. htmx swaps in just the form; without JavaScript the page
reloads with the same result."""

import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from deployments import forms as f
from deployments.instance_types import instance_check
from deployments.models import Environment
from deployments.selectors import code_host_list, environment_get, environment_production_get
from deployments.services import (
    CODE_HOST_FIELDS,
    CodeHostConflictError,
    code_host_list_save,
    design_documents_text,
    environment_create,
    environment_delete,
    environment_update,
    instance_types_text,
)
from handoff.accounts.models import Account
from handoff.common.conflicts import (
    CHOICE_PREFIX,
    conflict_choices_apply,
    conflict_resolve,
    conflict_resolve_rows,
)
from handoff.common.forms import VersionForm
from handoff.common.messages import saved_message
from handoff.common.services import (
    ConcurrentEditError,
    SubmissionRefusedError,
    field_values,
    submission_claim,
    submission_once,
)
from handoff.permissions import Action, require

DOCUMENT_FIELDS = ["title", "url"]
INSTANCE_FIELDS = ["count", "instance_type"]
CODE_HOST_ROW_FIELDS = ["id", "version", "removed", "started_from", *CODE_HOST_FIELDS]


def _account_for_edit(request, account_id: int) -> Account:
    account = get_object_or_404(Account, pk=account_id)
    require(request.user, Action.RECORD_EDIT, account)
    return account


def _section_url(account: Account, key: str) -> str:
    return f"{reverse('accounts:detail', args=[account.pk])}#{key}"


def _add_service_errors(form, error: ValidationError) -> None:
    """A refusal from the service (a rule the form could not see, e.g. a production environment
    created meanwhile): beside its field when the form has one, else above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- Environments ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def production_edit_view(request, account_id: int):
    account = _account_for_edit(request, account_id)
    environment = environment_production_get(account_id=account.pk)
    return _environment_form_page(
        request, account=account, environment=environment, production=True
    )


@require_http_methods(["GET", "POST"])
def environment_create_view(request, account_id: int):
    account = _account_for_edit(request, account_id)
    return _environment_form_page(request, account=account, environment=None, production=False)


@require_http_methods(["GET", "POST"])
def environment_edit_view(request, account_id: int, environment_id: int):
    account = _account_for_edit(request, account_id)
    environment = _environment_or_404(account, environment_id)
    if environment.is_production:
        return redirect("deployments:production_edit", account_id=account.pk)
    return _environment_form_page(
        request, account=account, environment=environment, production=False
    )


def _environment_or_404(account: Account, environment_id: int) -> Environment:
    try:
        return environment_get(account_id=account.pk, environment_id=environment_id)
    except Environment.DoesNotExist:
        raise Http404("No such environment on this account.") from None


def _environment_form_page(request, *, account, environment, production: bool):
    instance = environment or Environment(
        account=account, kind=Environment.Kind.PRODUCTION if production else ""
    )
    conflict = None
    focus = ""
    if request.method == "POST":
        action = f.RowAction.parse(request.POST.get("_action", ""))
        if action is not None:
            form, documents, instances, focus = _environment_rows_changed(
                request, instance=instance, production=production, action=action
            )
        else:
            form = f.EnvironmentForm(request.POST, instance=instance, production=production)
            documents = f.DesignDocumentFormSet(request.POST, prefix=f.DOCUMENTS_PREFIX)
            instances = f.InstanceTypeFormSet(request.POST, prefix=f.INSTANCES_PREFIX)
            # Validate all three, so every bad field shows its message at once.
            valid = [form.is_valid(), documents.is_valid(), instances.is_valid()]
            if all(valid):
                try:
                    saved = _environment_save(
                        request, account, environment, form, documents, instances
                    )
                except ConcurrentEditError as error:
                    conflict = _environment_conflict(error, form, documents, instances)
                except ValidationError as error:
                    _add_service_errors(form, error)
                else:
                    key = "production-deployment" if saved.is_production else "other-environments"
                    # The handbook's words: the section is "Production deployment".
                    label = "Production deployment" if saved.is_production else _capital(str(saved))
                    saved_message(request, f"{label} saved.", account_id=account.pk)
                    return redirect(_section_url(account, key))
    else:
        form = f.EnvironmentForm(instance=instance, production=production)
        documents = f.DesignDocumentFormSet(
            prefix=f.DOCUMENTS_PREFIX,
            initial=[{"title": d.title, "url": d.url} for d in _rows(environment, "documents")]
            or [{}],
        )
        instances = f.InstanceTypeFormSet(
            prefix=f.INSTANCES_PREFIX,
            initial=[
                {"count": r.count, "instance_type": r.instance_type}
                for r in _rows(environment, "instances")
            ]
            or [{}],
        )
    context = {
        "account": account,
        "environment": environment,
        "production": production,
        "form": form,
        "documents": documents,
        "instances": instances,
        "conflict": conflict,
        "focus": focus,
        "check": _instance_check_for(form, instances),
        "max_documents": f.MAX_DOCUMENTS,
        "max_instance_rows": f.MAX_INSTANCE_ROWS,
    }
    if request.htmx:
        return render(request, "deployments/_environment_form.html", context)
    return render(request, "deployments/environment_form.html", context)


def _rows(environment: Environment | None, which: str) -> list:
    if environment is None:
        return []
    if which == "documents":
        return list(environment.design_documents.all())
    return list(environment.instance_types.all())


def _environment_save(request, account, environment, form, documents, instances) -> Environment:
    rows = {
        "design_documents": f.document_links(documents),
        "instance_types": f.instance_specs(instances),
    }
    expected = form.expected_version()
    if environment is None and form.production:
        # Someone may have recorded the production environment since this form was opened:
        # a form without a version must not overwrite it.
        existing = environment_production_get(account_id=account.pk)
        if existing is not None:
            raise ConcurrentEditError(instance=existing)
    if environment is None:
        if form.production:
            # No one-time token: there is one production environment, and a second create (a
            # replay, a double click, a race) is refused by its constraint as a form error.
            return environment_create(
                account=account,
                actor=request.user,
                kind=Environment.Kind.PRODUCTION,
                data=form.service_data(),
                **rows,
            )
        with submission_once(form=form, user=request.user):
            return environment_create(
                account=account,
                actor=request.user,
                kind=form.cleaned_data["kind"],
                data=form.service_data(),
                **rows,
            )
    if expected is None:
        # Only the production form gets here without a version (it records and edits the one
        # production environment at one URL): it was opened to record production before
        # someone else did, so show theirs. Other edit forms are invalid without it.
        raise ConcurrentEditError(instance=environment)
    return environment_update(
        environment=environment,
        actor=request.user,
        data=form.service_data(),
        expected_version=expected,
        **rows,
    )


def _environment_conflict(error: ConcurrentEditError, form, documents, instances):
    """The one conflict panel, plus the documents and instance types when theirs differ."""
    current = Environment.objects.prefetch_related("design_documents", "instance_types").get(
        pk=error.instance.pk
    )
    lists = (
        (
            "Link to any Technical Design Documents",
            design_documents_text(current.design_documents.all()),
            design_documents_text(f.document_links(documents)),
        ),
        (
            "Machine Instance Types",
            instance_types_text(current.instance_types.all()),
            instance_types_text(f.instance_specs(instances)),
        ),
    )
    return conflict_resolve(form, error, current=current, lists=lists)


def _environment_rows_changed(request, *, instance, production, action: f.RowAction):
    """The form re-rendered from what was posted, with one row more or less, unvalidated."""
    form = f.EnvironmentForm(instance=instance, production=production)
    form.initial = f.form_initial_from_data(form, request.POST)
    document_rows = f.rows_from_data(
        request.POST, prefix=f.DOCUMENTS_PREFIX, fields=DOCUMENT_FIELDS, limit=f.MAX_DOCUMENTS
    )
    instance_rows = f.rows_from_data(
        request.POST, prefix=f.INSTANCES_PREFIX, fields=INSTANCE_FIELDS, limit=f.MAX_INSTANCE_ROWS
    )
    focus = ""
    if action.rows == f.DOCUMENTS_PREFIX:
        index = action.apply(document_rows, limit=f.MAX_DOCUMENTS)
        focus = f"{f.DOCUMENTS_PREFIX}-{index}" if action.verb == "add" else "add-documents"
    elif action.rows == f.INSTANCES_PREFIX:
        index = action.apply(instance_rows, limit=f.MAX_INSTANCE_ROWS)
        focus = f"{f.INSTANCES_PREFIX}-{index}" if action.verb == "add" else "add-instances"
    documents = f.DesignDocumentFormSet(prefix=f.DOCUMENTS_PREFIX, initial=document_rows)
    instances = f.InstanceTypeFormSet(prefix=f.INSTANCES_PREFIX, initial=instance_rows)
    _autofocus(documents, focus, "title")
    _autofocus(instances, focus, "count")
    return form, documents, instances, focus


def _autofocus(formset, focus: str, field: str) -> None:
    for index, form in enumerate(formset.forms):
        if focus == f"{formset.prefix}-{index}":
            form.fields[field].widget.attrs["autofocus"] = True


def _instance_check_for(form, instances):
    """The naming warnings and implied totals for what is in the form right now."""
    return instance_check(
        provider=_value(form, "hosting_provider") or "",
        rows=_instance_rows(instances),
        total_cpu=_int(_value(form, "total_cpu")),
        total_memory_gb=_int(_value(form, "total_memory_gb")),
    )


def _value(form, name: str):
    return form[name].value() if name in form.fields else None


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _instance_rows(instances) -> list[tuple[int, str]]:
    rows = []
    for form in instances.forms:
        instance_type = str(form["instance_type"].value() or "").strip()
        count = _int(form["count"].value())
        if instance_type and count:
            rows.append((count, instance_type))
    return rows


@require_POST
def instance_check_view(request, account_id: int):
    """The Machine Instance Types warnings and implied totals for the posted form (htmx)."""
    _account_for_edit(request, account_id)
    rows = [
        (_int(row["count"]), str(row["instance_type"]).strip())
        for row in f.rows_from_data(
            request.POST,
            prefix=f.INSTANCES_PREFIX,
            fields=INSTANCE_FIELDS,
            limit=f.MAX_INSTANCE_ROWS,
        )
    ]
    check = instance_check(
        provider=request.POST.get("hosting_provider", ""),
        rows=[(count, name) for count, name in rows if count and name],
        total_cpu=_int(request.POST.get("total_cpu")),
        total_memory_gb=_int(request.POST.get("total_memory_gb")),
    )
    return render(
        request, "deployments/_instance_check.html", {"check": check, "account_id": account_id}
    )


@require_http_methods(["GET", "POST"])
def environment_delete_view(request, account_id: int, environment_id: int):
    account = _account_for_edit(request, account_id)
    environment = _environment_or_404(account, environment_id)
    if environment.is_production:
        raise Http404("The production environment cannot be removed.")
    form = VersionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            environment_delete(
                environment=environment,
                actor=request.user,
                expected_version=form.expected_version(),
            )
        except ConcurrentEditError:
            messages.error(
                request,
                f"{_capital(str(environment))} was changed by someone else meanwhile; nothing "
                "was removed. Review it, then remove it again if you still want to.",
            )
            return redirect(
                "deployments:environment_edit", account_id=account.pk, environment_id=environment.pk
            )
        messages.success(request, f"{_capital(str(environment))} removed.")
        return redirect(_section_url(account, "other-environments"))
    return render(
        request,
        "deployments/environment_confirm_delete.html",
        {"account": account, "environment": environment, "form": form},
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- Code hosts ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def code_hosts_edit_view(request, account_id: int):
    account = _account_for_edit(request, account_id)
    conflict = None
    duplicate = ""
    focus = ""
    # The list form adds new rows, so it carries a one-time token like the create forms: the
    # same POST sent twice (a double click, a refresh) adds its new code hosts once.
    submission = request.POST.get("submission", "")[:64]
    if request.method == "POST":
        action = f.RowAction.parse(request.POST.get("_action", ""))
        if action is not None:
            rows = f.rows_from_data(
                request.POST,
                prefix=f.CODE_HOSTS_PREFIX,
                fields=CODE_HOST_ROW_FIELDS,
                limit=f.MAX_CODE_HOSTS,
            )
            index = action.apply(rows, limit=f.MAX_CODE_HOSTS, removable_in_place=True)
            formset = f.CodeHostFormSet(prefix=f.CODE_HOSTS_PREFIX, initial=rows)
            if action.verb == "add":
                focus = f"{f.CODE_HOSTS_PREFIX}-{index}"
                _autofocus(formset, focus, "kind")
            else:
                focus = "add-codehosts"
        else:
            formset = f.CodeHostFormSet(request.POST, prefix=f.CODE_HOSTS_PREFIX)
            _code_host_choices_apply(account, formset)
            if formset.is_valid():
                try:
                    with transaction.atomic():
                        submission_claim(token=submission, user=request.user)
                        changed = code_host_list_save(
                            account=account, actor=request.user, rows=f.code_host_changes(formset)
                        )
                except CodeHostConflictError as error:
                    formset, conflict = _code_host_conflict(request, error)
                except SubmissionRefusedError as error:
                    duplicate = error.message
                else:
                    if changed:
                        saved_message(request, "Code hosts saved.", account_id=account.pk)
                    else:
                        messages.info(request, "No changes to the code hosts.")
                    return redirect(_section_url(account, "code-hosts"))
    else:
        formset = f.CodeHostFormSet(
            prefix=f.CODE_HOSTS_PREFIX,
            initial=[
                {"id": c.pk, "version": c.version, **{n: getattr(c, n) for n in CODE_HOST_FIELDS}}
                for c in code_host_list(account_id=account.pk)
            ]
            or [{}],
        )
    context = {
        "account": account,
        "formset": formset,
        "conflict": conflict,
        "duplicate": duplicate,
        # A form posted without its token gets one to send back only once it has been refused.
        "submission": submission or secrets.token_urlsafe(24),
        "focus": focus,
        "max_code_hosts": f.MAX_CODE_HOSTS,
    }
    if request.htmx:
        return render(request, "deployments/_code_hosts_form.html", context)
    return render(request, "deployments/code_hosts_form.html", context)


def _code_host_choices_apply(account: Account, formset) -> None:
    """A POST that answers a conflict (the one conflict panel's choices): where it chose "Keep
    theirs", the saved row's value goes into that row's form. Reads the rows only then."""
    if not any(CHOICE_PREFIX in key for key in formset.data):
        return
    saved = {c.pk: c for c in code_host_list(account_id=account.pk)}
    for form in formset.forms:
        row = saved.get(_int(form.data.get(form.add_prefix("id"))))
        if row is not None:
            conflict_choices_apply(form, instance=row, names=CODE_HOST_FIELDS)


def _code_host_conflict(request, error: CodeHostConflictError):
    """The one conflict panel (handoff.common.conflicts), row by row: per field someone else
    changed, theirs taken or, where you changed it too, theirs beside yours with a choice; your
    other values kept. A row they removed becomes a new row (saving adds it back); a row you
    removed that they changed is named, and goes when you save."""
    data = request.POST.copy()
    current = {c.pk: c for c in error.current}
    total = len(
        f.rows_from_data(data, prefix=f.CODE_HOSTS_PREFIX, fields=[], limit=f.MAX_CODE_HOSTS)
    )
    for index in range(total):
        key = f"{f.CODE_HOSTS_PREFIX}-{index}-"
        if _int(data.get(key + "id")) in error.gone_ids:
            data[key + "id"] = ""
            data[key + "version"] = ""
            data[key + "started_from"] = ""
    formset = f.CodeHostFormSet(data, prefix=f.CODE_HOSTS_PREFIX)
    formset.is_valid()
    pairs, removed = [], []
    for index, form in enumerate(formset.forms):
        row = current.get(_int(data.get(form.add_prefix("id"))))
        if row is None:
            continue
        label = f"Code host {index + 1} ({row.name})"
        if form.cleaned_data.get("removed"):
            data[form.add_prefix("version")] = str(row.version)
            theirs = field_values(row, CODE_HOST_FIELDS)
            text = ", ".join(str(v) for v in theirs.values() if v not in (None, ""))
            removed.append((label, text, "removed when you save"))
        else:
            pairs.append((form, row, label))
    gone = len(error.gone_ids)
    note = ""
    if gone:
        note = (
            f"{gone} code hosts you edited were removed by someone else; saving adds what you "
            "typed back as new."
            if gone > 1
            else "A code host you edited was removed by someone else; saving adds what you "
            "typed back as new."
        )
    if not pairs:  # no one else's values to show: say plainly that nothing changed
        note = f"Nothing was saved. {note}".strip()
    conflict = conflict_resolve_rows(
        data, pairs, names=CODE_HOST_FIELDS, note=note, lists=tuple(removed)
    )
    if not conflict.message:
        conflict.message = "Nothing was saved: someone else saved the code hosts meanwhile."
    # The form shows the data made ready: their values taken, the choices, current versions.
    return f.CodeHostFormSet(data, prefix=f.CODE_HOSTS_PREFIX), conflict
