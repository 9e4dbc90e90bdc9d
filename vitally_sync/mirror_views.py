"""The mirror's pages: the account form's search, and the import (linking.py, importing.py)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_GET, require_http_methods

from handoff.permissions import Action, require
from vitally_sync.conf import sync_config
from vitally_sync.importing import IMPORT_LIST_LIMIT, accounts_import, importable_list
from vitally_sync.linking import linked_accounts_by_vitally, mirror_account_list
from vitally_sync.mirror_forms import ImportFilterForm, ImportForm
from vitally_sync.models import MirrorState


def _last_pull():
    return (
        MirrorState.objects.filter(last_pull_at__isnull=False)
        .order_by("-last_pull_at")
        .values_list("last_pull_at", flat=True)
        .first()
    )


def _mirror_state(config) -> MirrorState | None:
    """Where the pull stands for the configured Vitally: the import page says it."""
    return MirrorState.objects.filter(base_url=config.base_url).first() if config.enabled else None


@require_GET
def account_search_view(request):
    """The account form's Vitally field, as someone types (htmx): the mirrored accounts whose
    name (or id, or externalId) matches, each a button that puts its id in the field. Any
    signed-in person: the form it serves checks who may save."""
    query = (request.GET.get("vitally_account_id") or request.GET.get("q") or "").strip()[:100]
    rows = mirror_account_list(query=query)
    linked = linked_accounts_by_vitally(rows)
    try:
        current = int(request.GET.get("account") or 0)
    except ValueError:
        current = 0
    results = []
    for row in rows:
        holder = linked.get(row.vitally_id)
        this = holder is not None and holder.pk == current
        results.append({"row": row, "linked": holder, "this": this})
    context = {"query": query, "results": results, "last_pull": _last_pull() if not rows else None}
    return render(request, "vitally_sync/mirror/_search_results.html", context)


@require_http_methods(["GET", "POST"])
def vitally_import_view(request):
    """Import from Vitally: the mirrored accounts no portal account is linked to, filtered by
    name; the chosen ones become portal accounts (importing.py). Managers and admins."""
    require(request.user, Action.VITALLY_IMPORT)
    filters = ImportFilterForm(request.GET)
    query = filters.filters()["q"]
    listed = list(importable_list(query=query)[: IMPORT_LIST_LIMIT + 1])
    more, rows = len(listed) > IMPORT_LIST_LIMIT, listed[:IMPORT_LIST_LIMIT]
    form = ImportForm(request.POST if request.method == "POST" else None, rows=rows)
    if request.method == "POST" and form.is_valid():
        try:
            report = accounts_import(
                vitally_ids=form.cleaned_data["vitally_ids"], actor=request.user
            )
        except ValidationError as error:  # linked or named since the form was checked
            form.add_error("vitally_ids", error.messages)
        else:
            names = ", ".join(f"“{account.name}”" for account in report.created)
            count = len(report.created)
            messages.success(
                request, f"Imported {count} account{pluralize(count)} from Vitally: {names}."
            )
            if report.open_differences:
                messages.warning(
                    request,
                    f"{report.open_differences} value{pluralize(report.open_differences)} from "
                    "Vitally could not become the portal's (counts, the phase): each account's "
                    "Vitally page shows them beside the portal's, to keep or resolve.",
                )
            if report.people_problem:
                messages.warning(
                    request,
                    f"Imported without people: {report.people_problem}. Assign them on each "
                    "account's edit page.",
                )
            return redirect(request.get_full_path())
    config = sync_config()
    selected = set(form["vitally_ids"].value() or ()) if form.is_bound else set()
    context = {
        "filter_form": filters,
        "form": form,
        "rows": rows,
        "more": more,
        "selected": selected,
        "query": query,
        "mirror": _mirror_state(config),
        "config": config,
    }
    template = (
        "vitally_sync/mirror/_import_rows.html"
        if request.htmx
        else ("vitally_sync/mirror/import.html")
    )
    return render(request, template, context)
