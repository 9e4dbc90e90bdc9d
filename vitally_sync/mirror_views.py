"""The mirror's pages: the account form's search, and the import (linking.py, importing.py)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_GET, require_http_methods

from handoff.permissions import Action, require
from vitally_sync.importing import (
    IMPORT_LIST_LIMIT,
    accounts_import,
    importable_list,
    mirrored_values,
)
from vitally_sync.linking import linked_accounts_by_vitally, mirror_account_list
from vitally_sync.mirror import mirror_status
from vitally_sync.mirror_forms import ImportFilterForm, ImportForm


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
    mirror = mirror_status() if not rows and len(query) >= 2 else None
    context = {"query": query, "results": results, "mirror": mirror}
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
    for row in rows:  # what each import would take, shown under its name
        row.values = mirrored_values(row)
    if request.method == "POST" and form.is_valid():
        try:
            report = accounts_import(
                vitally_ids=form.cleaned_data["vitally_ids"], actor=request.user
            )
        except ValidationError as error:  # linked or named since the form was checked
            form.add_error("vitally_ids", error.messages)
        else:
            count = len(report.created)
            created = ((a.get_absolute_url(), a.name) for a in report.created)
            links = format_html_join(", ", '<a href="{}">{}</a>', created)
            messages.success(
                request,
                format_html(
                    "Imported {} account{} from Vitally: {}.", count, pluralize(count), links
                ),
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
    selected = set(form["vitally_ids"].value() or ()) if form.is_bound else set()
    context = {
        "filter_form": filters,
        "form": form,
        "rows": rows,
        "more": more,
        "selected": selected,
        "query": query,
        "mirror": None if request.htmx else mirror_status(),
    }
    template = (
        "vitally_sync/mirror/_import_rows.html"
        if request.htmx
        else ("vitally_sync/mirror/import.html")
    )
    return render(request, template, context)
