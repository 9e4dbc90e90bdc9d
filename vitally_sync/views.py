import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from handoff.accounts.inbox import ROWS_SHOWN
from handoff.accounts.models import Account
from handoff.accounts.selectors import account_get
from handoff.common.forms import VersionForm
from handoff.permissions import Action, can, require
from handoff.record import AccountRecord, account_record_get
from vitally_sync.conf import sync_config
from vitally_sync.contribution import differences_of, panel_context
from vitally_sync.differences import (
    ResolveRefused,
    difference_keep,
    difference_take,
    differences_take_all,
)
from vitally_sync.forms import SyncHealthFilterForm, TakeAllForm
from vitally_sync.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from vitally_sync.metrics import metrics_text
from vitally_sync.note_differences import (
    NoteDecisionRefused,
    note_leave_choose,
    note_row,
    note_send_choose,
    portal_subject,
)
from vitally_sync.reconcile import value_text
from vitally_sync.selectors import (
    HEALTH_LABELS,
    HEALTH_STATES,
    TROUBLE,
    account_sync_of,
    sync_health_get,
    vitally_account_link,
    vitally_notes_list,
    vitally_notes_trouble_list,
)
from vitally_sync.services import sync_push_request, sync_read_request

# After "Read Vitally back now", the panel polls for the read this long, then says it has not
# landed yet (a push on its way holds the read, or the workers are busy or down).
READ_WAIT_SECONDS = 90


def _account(account_id: int) -> Account:
    try:
        return account_get(account_id=account_id)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None


def _record(account_id: int) -> AccountRecord:
    try:
        return account_record_get(account_id)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None


def _panel(request, record: AccountRecord, *, summary: bool = False, **shown) -> dict:
    """The panel from the account's record: whole on the Vitally page, or the account page's
    `summary` of it."""
    ctx = panel_context(record, request.user, summary=summary, **shown)
    return {"account": record.account, "ctx": ctx}


def _render_panel(request, record: AccountRecord, *, extra: dict | None = None, **shown):
    """The panel swapped in place (htmx), as the page it sits on shows it. `partial`: also
    refresh the badge in the page header and put the notice, if any, in the live region above
    the panel (out of band: the panel's own polling never removes it)."""
    summary = (request.GET.get("summary") or request.POST.get("summary")) == "1"
    context = {**_panel(request, record, summary=summary, **shown), "partial": True}
    context.update(extra or {})
    return render(request, "vitally_sync/_panel.html", context)


def _back(request, account: Account):
    """Without JavaScript, back to the page the form was on: the Vitally sync page (with its
    filters), the account page's summary or the Vitally page."""
    health = _health_back(request.POST.get("back", ""))
    if health:
        return redirect(health)
    if request.POST.get("summary") == "1":
        return redirect(f"{account.get_absolute_url()}#vitally")
    return redirect("vitally_sync:panel", account_id=account.pk)


def _health_back(back: str) -> str:
    """The Vitally sync page's address a form came from, rebuilt from its query string (never
    another page, host or a raw header value); "" when `back` is not that page."""
    health = reverse("vitally_sync:health")
    path, _, query = back.partition("?")
    if path != health:
        return ""
    query = QueryDict(query).urlencode()
    return f"{health}?{query}" if query else health


@require_GET
def vitally_panel_view(request, account_id: int):
    """The Vitally page of an account; with htmx, the panel alone (it polls itself while a
    push is on its way: one record load per poll); with ?part=badge only its badge, as the saved
    message after an edit shows it ("Account saved. Vitally: Syncing"), polling until it lands."""
    record = _record(account_id)
    require(request.user, Action.ACCOUNT_VIEW, record.account)
    if request.GET.get("part") == "badge":
        # The panel's summary: the state and the differences that hold, no trait table.
        context = _panel(request, record, summary=True)
        return render(request, "vitally_sync/_badge_live.html", context)
    if request.htmx:
        asked = _read_asked(request.GET.get("read", ""))
        if asked is not None:
            return _render_reading(request, record, asked)
        return _render_panel(request, record)
    return render(request, "vitally_sync/panel_page.html", _page(request, record))


def _read_asked(value: str) -> float | None:
    """When "Read Vitally back now" was asked (seconds since the epoch, carried by the panel's
    polling address), or None when `value` is not such a time within the last READ_WAIT_SECONDS
    and a little more (an old or forged address polls no longer)."""
    try:
        asked = float(value)
    except ValueError:
        return None
    age = time.time() - asked
    return asked if -5 <= age <= READ_WAIT_SECONDS + 30 else None


def _render_reading(request, record: AccountRecord, asked: float):
    """The panel polled after "Read Vitally back now": still waiting (polling on), landed (what
    was found, in the notice, and on the Vitally page the notes as read), or not in time."""
    sync = account_sync_of(record.account)
    landed = sync is not None and sync.reconciled_at and sync.reconciled_at.timestamp() >= asked
    if landed:
        found = len(differences_of(record))
        decisions = sync.note_decisions
        parts = [
            f"{found} field{'s' if found != 1 else ''} differ{'s' if found == 1 else ''} in "
            "Vitally (below)"
            if found
            else "every field holds the portal's value"
        ]
        if decisions:
            parts.append(
                "a note differs there" if decisions == 1 else f"{decisions} notes differ there"
            )
        notice = f"Read back from Vitally just now: {' and '.join(parts)}."
        summary = request.GET.get("summary") == "1"
        notes = {} if summary else {**_notes_context(request, record), "notes_oob": True}
        return _render_panel(request, record, notice=notice, extra=notes)
    if time.time() - asked > READ_WAIT_SECONDS:
        notice = (
            "Vitally has not been read back yet (a push on its way holds the read, or the "
            "workers are busy): the scheduled read will do it."
        )
        return _render_panel(request, record, notice=notice)
    return _render_panel(request, record, reading=asked)


def _page(request, record: AccountRecord, *, notes_notice: str = "", **shown) -> dict:
    """The Vitally page: the panel, and the notes sent to Vitally with what may be done about
    those that differ there (one query)."""
    return {
        **_panel(request, record, **shown),
        **_notes_context(request, record, notes_notice=notes_notice),
        "vitally_link": vitally_account_link(record.account),
    }


def _notes_context(request, record: AccountRecord, *, notes_notice: str = "") -> dict:
    """The Vitally page's notes table (one query)."""
    return {
        "vitally_notes": [
            note_row(note) for note in vitally_notes_list(account_id=record.account.pk)
        ],
        "can_decide_notes": can(request.user, Action.VITALLY_PUSH, record.account),
        "notes_notice": notes_notice,
    }


@require_POST
def vitally_push_view(request, account_id: int):
    account = _account(account_id)
    require(request.user, Action.VITALLY_PUSH, account)
    if not sync_config().enabled:
        notice, level = "The Vitally sync is not configured: nothing was sent.", messages.ERROR
    elif not account.vitally_account_id:
        notice, level = "This account has no Vitally account id: nothing was sent.", messages.ERROR
    else:
        sync_push_request(account=account, actor=request.user)
        notice = "Push requested: a worker sends the current values to Vitally within seconds."
        level = messages.SUCCESS
    if request.htmx:
        refused = level == messages.ERROR
        return _render_panel(request, _record(account_id), notice=notice, refused=refused)
    messages.add_message(request, level, notice)
    return _back(request, account)


@require_POST
def vitally_read_view(request, account_id: int):
    """ "Read Vitally back now": a worker reads the account's traits and sent notes now; with
    htmx the panel polls until the read lands. Refused, nothing queued, without a configured
    sync or a Vitally account id."""
    account = _account(account_id)
    require(request.user, Action.VITALLY_PUSH, account)
    asked = time.time()
    config = sync_config()
    if not config.enabled:
        notice, level = "The Vitally sync is not configured: nothing was read.", messages.ERROR
    elif not account.vitally_account_id:
        notice, level = "This account has no Vitally account id: nothing was read.", messages.ERROR
    elif sync_read_request(account=account, actor=request.user):
        notice = (
            "Read back requested: a worker reads this account and its notes from Vitally "
            "within seconds."
        )
        level = messages.SUCCESS
    else:
        later = (
            "the scheduled read will do it."
            if config.reconcile_seconds
            else "try again later (the scheduled read is off)."
        )
        notice, level = f"The read back could not be queued just now: {later}", messages.WARNING
    if request.htmx:
        refused = level == messages.ERROR
        reading = asked if level == messages.SUCCESS else None
        record = _record(account_id)
        return _render_panel(request, record, notice=notice, refused=refused, reading=reading)
    messages.add_message(request, level, notice)
    return _back(request, account)


@require_GET
def sync_health_view(request):
    """The Vitally sync of every account, trouble first, for managers and admins; with htmx
    (a filter changed), the part under the filter bar."""
    require(request.user, Action.VITALLY_HEALTH)
    filter_form = SyncHealthFilterForm(request.GET, viewer=request.user)
    filters = filter_form.filters()
    health = sync_health_get(**filters, limit=ROWS_SHOWN, config=sync_config())
    counts = [
        {
            "state": state,
            "label": HEALTH_LABELS[state],
            "count": health.counts[state],
            "trouble": state in TROUBLE,
            "query": filter_form.query_for(state),
            "selected": filters["state"] == state,
        }
        for state in HEALTH_STATES
    ]
    pushable = {
        row.account.pk
        for row in health.rows
        if row.push_helps
        and health.config.enabled
        and can(request.user, Action.VITALLY_PUSH, row.account)
    }
    context = {
        "health": health,
        "counts": counts,
        "pushable": pushable,
        "filter_form": filter_form,
        "trouble_query": filter_form.query_for("trouble"),
        "trouble_selected": filters["state"] == "trouble",
        "stale_label": HEALTH_LABELS["stale"],
        "notes_trouble": [] if request.htmx else vitally_notes_trouble_list(),
    }
    template = "vitally_sync/_health_rows.html" if request.htmx else "vitally_sync/health.html"
    return render(request, template, context)


@login_not_required  # Prometheus has no session: the bearer token is what guards it
@never_cache
def metrics_view(request):
    """GET /metrics, the Vitally sync's numbers in Prometheus' text format, read from the
    database at each scrape. Off (404, like any unknown address) until METRICS_TOKEN is set;
    then only `Authorization: Bearer <METRICS_TOKEN>` gets them, and anything else a bare 401."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not constant_time_compare(supplied.strip(), token):
        return HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"})
    return HttpResponse(metrics_text(), content_type=METRICS_CONTENT_TYPE)


# --- "Differs in Vitally": keep the portal's value, or take Vitally's ------------------------
@require_POST
def difference_keep_view(request, account_id: int, difference_id: int):
    account = _account(account_id)
    require(request.user, Action.VITALLY_PUSH, account)
    return _resolve(request, account, difference_id, keep=True)


@require_POST
def difference_take_view(request, account_id: int, difference_id: int):
    account = _account(account_id)
    # An edit of the deployment record, which also decides what Vitally is sent.
    require(request.user, Action.VITALLY_PUSH, account)
    require(request.user, Action.RECORD_EDIT, account)
    return _resolve(request, account, difference_id, keep=False)


def _resolve(request, account: Account, difference_id: int, *, keep: bool):
    """Both buttons post the difference's version (what the person saw). Without JavaScript
    a success goes back to the panel with a message; a refusal shows the panel on a page of
    its own, with the reason next to the field. With htmx the panel is swapped in place."""
    form = VersionForm(request.POST)
    try:
        if not form.is_valid():
            raise ResolveRefused(" ".join(form.non_field_errors()))
        expected = form.cleaned_data["version"]
        if keep:
            kept = difference_keep(
                account=account,
                difference_id=difference_id,
                expected_version=expected,
                actor=request.user,
            )
        else:
            taken = difference_take(
                account=account,
                difference_id=difference_id,
                expected_version=expected,
                actor=request.user,
            )
    except ResolveRefused as refused:
        if refused.beside_field:
            return _refused(request, account, errors={difference_id: refused})
        return _refused(request, account, notice=refused.message)
    if keep and kept.clears_vitally:
        notice = (
            f"Cleared Vitally's value of {kept.label} "
            f"({value_text(kept.vitally_value, none='not set')}): the portal has none, and a "
            "worker deletes it in Vitally within seconds."
        )
    elif keep:
        notice = (
            f"Kept the portal's value of {kept.label} "
            f"({value_text(kept.portal_value)}): a worker sends it to Vitally within seconds."
        )
    elif taken.created_with:
        made = " and ".join(
            f"{d.label} ({value_text(d.vitally_value)})" for d in taken.created_with
        )
        notice = (
            f"Took Vitally's value of {taken.difference.label} "
            f"({value_text(taken.difference.vitally_value)}). The portal had no production "
            f"deployment: it was created with Vitally's {made}. History records it."
        )
    else:
        notice = (
            f"Took Vitally's value of {taken.difference.label} "
            f"({value_text(taken.difference.vitally_value)}): the production deployment now "
            "says so, and History records it."
        )
    return _done(request, account, notice, record_changed=True)


def _refused(
    request,
    account: Account,
    *,
    notice: str = "",
    errors: dict[int, ResolveRefused] | None = None,
    action: tuple[str, str] | None = None,
):
    """Nothing was done: the panel again, the reason as an error (next to the field when it is
    about one), in place with htmx, else on the Vitally page."""
    shown = {"notice": notice, "refused": True, "errors": errors or {}, "action": action}
    if request.htmx:
        return _render_panel(request, _record(account.pk), **shown)
    return render(
        request, "vitally_sync/panel_page.html", _page(request, _record(account.pk), **shown)
    )


def _done(request, account: Account, notice: str, *, record_changed: bool = False, **shown):
    """Done: the panel again with the notice (in place with htmx). On the account page, a
    resolution also changes what its other sections show (the production deployment a value
    went into, the attention list, the sizing check): the page is loaded again whole, from the
    top, where the message says what was done, rather than only its panel swapped under stale
    sections."""
    on_account_page = request.POST.get("summary") == "1" and not _health_back(
        request.POST.get("back", "")
    )
    if record_changed and on_account_page:
        messages.success(request, notice)
        if not request.htmx:
            return redirect(account.get_absolute_url())
        return HttpResponse(headers={"HX-Redirect": account.get_absolute_url()})
    if request.htmx:
        return _render_panel(request, _record(account.pk), notice=notice, **shown)
    messages.success(request, notice)
    return _back(request, account)


# --- A note that differs in Vitally: send the portal's text, or leave Vitally's note ---------
@require_POST
def note_send_view(request, account_id: int, note_id: int):
    account = _account(account_id)
    require(request.user, Action.VITALLY_PUSH, account)  # as the traits' Keep
    return _decide(request, account, note_id, send=True)


@require_POST
def note_leave_view(request, account_id: int, note_id: int):
    account = _account(account_id)
    require(request.user, Action.VITALLY_PUSH, account)
    return _decide(request, account, note_id, send=False)


def _decide(request, account: Account, note_id: int, *, send: bool):
    """Both buttons post the note's read version (what the person saw). A success goes back to
    the notes table with a message; a refusal shows the Vitally page again with the reason
    above the table, nothing changed."""
    form = VersionForm(request.POST)
    try:
        if not form.is_valid():
            raise NoteDecisionRefused(" ".join(form.non_field_errors()))
        choose = note_send_choose if send else note_leave_choose
        note = choose(
            account=account,
            note_id=note_id,
            expected_version=form.cleaned_data["version"],
            actor=request.user,
        )
    except NoteDecisionRefused as refused:
        context = _page(request, _record(account.pk), notes_notice=refused.message)
        return render(request, "vitally_sync/panel_page.html", context)
    subject = portal_subject(note)
    if send:
        notice = f"The portal's text of “{subject}” is sent to Vitally within seconds."
    else:
        notice = f"Vitally's note “{subject}” is left as it is: the portal no longer sends it."
    messages.success(request, notice)
    return redirect(reverse("vitally_sync:panel", args=[account.pk]) + "#vitally-notes")


@require_POST
def differences_take_all_view(request, account_id: int):
    """Take all of Vitally's values (those the panel showed). What was taken and what stays
    a difference, and why, in one message; the fields refused are marked beside each too."""
    account = _account(account_id)
    require(request.user, Action.VITALLY_PUSH, account)
    require(request.user, Action.RECORD_EDIT, account)
    form = TakeAllForm(request.POST)
    if not form.is_valid():
        return _refused(request, account, notice=form.error_text())
    report = differences_take_all(
        account=account, actor=request.user, expected_versions=form.cleaned_data["shown"]
    )
    if not report.taken:
        return _refused(
            request,
            account,
            notice=report.summary(),
            errors=report.refused,
            action=report.blocked.action if report.blocked else None,
        )
    return _done(request, account, report.summary(), errors=report.refused, record_changed=True)
