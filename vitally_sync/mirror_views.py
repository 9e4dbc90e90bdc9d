"""The mirror's pages: the account form's search, and the import (linking.py, importing.py)."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from vitally_sync.linking import linked_accounts_by_vitally, mirror_account_list
from vitally_sync.models import MirrorState


def _last_pull():
    return (
        MirrorState.objects.order_by("-last_pull_at").values_list("last_pull_at", flat=True).first()
    )


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
