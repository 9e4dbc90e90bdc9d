"""The whole permission matrix, written out by hand (so a change in permissions.py that nobody
meant fails here): every action × phase × person, first asked of `can()`, then forged as an HTTP
request by every person, allowed or not. Plus requests aimed at another account's objects."""

from pathlib import Path

import pytest
from django.urls import reverse

from deployments.models import CodeHostConnection, Environment
from deployments.services import environment_create
from handoff.accounts.management.commands.permission_matrix import PEOPLE, matrix_markdown
from handoff.accounts.models import Account
from handoff.closeout import services
from handoff.closeout.models import ChecklistItem, Closeout, HandoffReview, SignOff
from handoff.people.models import User
from handoff.permissions import Action, can
from logs.models import ExpansionOpportunity, Issue, JournalEntry, Risk
from logs.services import (
    issue_create,
    journal_entry_create,
    opportunity_create,
    risk_create,
)
from tests.factories import AccountFactory, UserFactory, form_token

pytestmark = pytest.mark.django_db

IMPL, READY, DONE = (
    Account.Phase.IMPLEMENTATION,
    Account.Phase.READY_FOR_HANDOFF,
    Account.Phase.HANDED_OFF,
)
Y, N = True, False
PERSONS = ["ie_assigned", "ie_other", "ta_assigned", "ta_other", "manager", "admin"]

# action -> phase -> (IE assigned, IE other, TA assigned, TA other, Manager, Admin)
MATRIX = {
    Action.ACCOUNT_VIEW: {
        IMPL: (Y, Y, Y, Y, Y, Y),
        READY: (Y, Y, Y, Y, Y, Y),
        DONE: (Y, Y, Y, Y, Y, Y),
    },
    Action.ACCOUNT_CREATE: {None: (Y, Y, N, N, Y, Y)},
    Action.ACCOUNT_EDIT: {
        IMPL: (Y, N, N, N, Y, Y),
        READY: (Y, N, N, N, Y, Y),
        DONE: (N, N, Y, N, Y, Y),
    },
    Action.RECORD_EDIT: {
        IMPL: (Y, N, N, N, Y, Y),
        READY: (Y, N, N, N, Y, Y),
        DONE: (N, N, Y, N, Y, Y),
    },
    Action.JOURNAL_ADD: {
        IMPL: (Y, Y, Y, Y, Y, Y),
        READY: (Y, Y, Y, Y, Y, Y),
        DONE: (Y, Y, Y, Y, Y, Y),
    },
    # Without an entry: the maintainer's rule (an entry's author may also correct it).
    Action.JOURNAL_EDIT: {
        IMPL: (Y, N, N, N, Y, Y),
        READY: (Y, N, N, N, Y, Y),
        DONE: (N, N, Y, N, Y, Y),
    },
    # Without an item: the maintainer's rule (an item's owner may also update it).
    Action.LOG_EDIT: {
        IMPL: (Y, N, N, N, Y, Y),
        READY: (Y, N, N, N, Y, Y),
        DONE: (N, N, Y, N, Y, Y),
    },
    Action.LOGS_OVERVIEW: {None: (N, N, Y, Y, Y, Y)},
    Action.CHECKLIST_START: {
        IMPL: (Y, N, N, N, Y, Y),
        READY: (Y, N, N, N, Y, Y),
        DONE: (N, N, N, N, N, N),
    },
    Action.CHECKLIST_EDIT: {
        IMPL: (Y, N, N, N, Y, Y),
        READY: (Y, N, N, N, Y, Y),
        DONE: (N, N, N, N, N, N),
    },
    Action.HANDOFF_REQUEST: {
        IMPL: (Y, N, N, N, Y, Y),
        READY: (N, N, N, N, N, N),
        DONE: (N, N, N, N, N, N),
    },
    Action.HANDOFF_WITHDRAW: {
        IMPL: (N, N, N, N, N, N),
        READY: (Y, N, N, N, Y, Y),
        DONE: (N, N, N, N, N, N),
    },
    Action.HANDOFF_ACKNOWLEDGE: {
        IMPL: (N, N, Y, N, N, N),
        READY: (N, N, Y, N, N, N),
        DONE: (N, N, N, N, N, N),
    },
    Action.HANDOFF_MARK_REVIEWED: {
        IMPL: (N, N, Y, N, N, N),
        READY: (N, N, Y, N, N, N),
        DONE: (N, N, Y, N, N, N),
    },
    Action.CLOSEOUT_SIGN_OFF: {
        IMPL: (N, N, N, N, N, N),
        READY: (N, N, N, N, Y, Y),
        DONE: (N, N, N, N, N, N),
    },
    Action.CLOSEOUT_REOPEN: {
        IMPL: (N, N, N, N, N, N),
        READY: (N, N, N, N, N, N),
        DONE: (N, N, N, N, Y, Y),
    },
    Action.VITALLY_PUSH: {
        IMPL: (Y, N, N, N, Y, Y),
        READY: (Y, N, N, N, Y, Y),
        DONE: (N, N, Y, N, Y, Y),
    },
    Action.VITALLY_HEALTH: {None: (N, N, N, N, Y, Y)},
    Action.VITALLY_IMPORT: {None: (N, N, N, N, Y, Y)},
    # Staff only, whatever the role: the (non-staff) manager is no admin.
    Action.ADMIN_USE: {None: (N, N, N, N, N, Y)},
}

CELLS = [
    (action, phase, index)
    for action, phases in MATRIX.items()
    for phase in phases
    for index in range(len(PERSONS))
]


def test_the_matrix_names_every_action():
    assert set(MATRIX) == set(Action)


@pytest.fixture
def people(db):
    return {
        "ie_assigned": UserFactory(username="ie-a", role=User.Role.IMPLEMENTATION_ENGINEER),
        "ie_other": UserFactory(username="ie-o", role=User.Role.IMPLEMENTATION_ENGINEER),
        "ta_assigned": UserFactory(username="ta-a", role=User.Role.TECHNICAL_ADVISOR),
        "ta_other": UserFactory(username="ta-o", role=User.Role.TECHNICAL_ADVISOR),
        "manager": UserFactory(username="mgr", role=User.Role.MANAGER),
        "admin": UserFactory(username="adm", role="", is_staff=True),
    }


def make_account(people, phase, *, with_checklist=True, template_items=None):
    """An account in `phase` whose IE and TA are the "assigned" people. Rows are set up
    directly where the workflow would take several steps (fixtures, not the thing tested)."""
    account = AccountFactory(
        phase=phase,
        implementation_engineer=people["ie_assigned"],
        technical_advisor=people["ta_assigned"],
        manager=people["manager"],
    )
    if with_checklist:
        ChecklistItem.objects.create(account=account, position=1, title="Indexing")
    return account


@pytest.mark.parametrize("action, phase, index", CELLS)
def test_can_answers_every_cell(people, action, phase, index):
    user = people[PERSONS[index]]
    account = None if phase is None else make_account(people, phase, with_checklist=False)
    assert can(user, action, account) is MATRIX[action][phase][index]


# --- The same cells as forged HTTP requests ------------------------------------------------------
def _post(client, name, account, data=None, **kwargs):
    """A POST as the form was served: create forms carry a one-time token (edits ignore it)."""
    data = {"submission": form_token(), **(data or {})}
    return client.post(reverse(name, args=[account.pk, *kwargs.values()]), data)


class Sent:
    """Several requests that perform one action: their common status (a tuple when they
    disagree, which no cell accepts)."""

    def __init__(self, responses):
        codes = {r.status_code for r in responses}
        self.status_code = codes.pop() if len(codes) == 1 else tuple(sorted(codes))


def _all_or_none(effects: list[bool]) -> bool | None:
    """True when every request took effect, False when none did, None (no cell's answer) when
    only some did."""
    return True if all(effects) else False if not any(effects) else None


PRODUCTION_FORM = {
    "_action": "save",
    "version": "",
    "sourcegraph_instance_url": "https://sourcegraph.acme.example",
    "deployment_type": "kubernetes_helm",
    "hosting_provider": "aws",
    "total_cpu": "48",
    "documents-TOTAL_FORMS": "0",
    "documents-INITIAL_FORMS": "0",
    "instances-TOTAL_FORMS": "0",
    "instances-INITIAL_FORMS": "0",
}


def _someone_else():
    """The author or owner of a row that none of the six people of the matrix wrote or owns:
    only the maintainer's rule can let them change it."""
    return UserFactory(username="someone-else", role=User.Role.IMPLEMENTATION_ENGINEER)


def _record_edit(client, account, user):
    """The production deployment form, the code hosts form, and a staging environment's form."""
    staging = environment_create(
        account=account, actor=_someone_else(), kind="staging", data={"total_cpu": 4}
    )
    responses = [
        _post(client, "deployments:production_edit", account, PRODUCTION_FORM),
        _post(
            client,
            "deployments:code_hosts_edit",
            account,
            {
                "_action": "save",
                "codehosts-TOTAL_FORMS": "1",
                "codehosts-INITIAL_FORMS": "0",
                "codehosts-0-kind": "github_com",
                "codehosts-0-repository_count": "120",
                "codehosts-0-monorepo_count": "0",
            },
        ),
        _post(
            client,
            "deployments:environment_edit",
            account,
            {**PRODUCTION_FORM, "kind": "staging", "version": staging.version, "total_cpu": "8"},
            environment_id=staging.pk,
        ),
    ]
    effects = [
        Environment.objects.filter(account=account, kind="production").exists(),
        CodeHostConnection.objects.filter(account=account).exists(),
        Environment.objects.get(pk=staging.pk).total_cpu == 8,
    ]
    return Sent(responses), _all_or_none(effects)


def _log_edit(client, account, user):
    """Add an issue, a risk and an opportunity; edit an issue someone else owns."""
    other = _someone_else()
    theirs = issue_create(account=account, actor=other, title="Theirs", owner=other)
    owner = {"owner": user.pk}
    responses = [
        _post(
            client, "logs:issue_create", account, {"title": "Forged", "severity": "high", **owner}
        ),
        _post(
            client,
            "logs:risk_create",
            account,
            {
                "title": "Forged",
                "category": "other",
                "description": "Because …",
                "likelihood": "2",
                "impact": "2",
                "response_strategy": "accept",
                **owner,
            },
        ),
        _post(
            client,
            "logs:opportunity_create",
            account,
            {"title": "Forged", "opportunity_type": "user", **owner},
        ),
        _post(
            client,
            "logs:issue_edit",
            account,
            {
                "title": "Renamed",
                "severity": "low",
                "owner": other.pk,
                "status": "open",
                "version": theirs.version,
            },
            issue_id=theirs.pk,
        ),
    ]
    effects = [
        Issue.objects.filter(account=account, title="Forged").exists(),
        Risk.objects.filter(account=account, title="Forged").exists(),
        ExpansionOpportunity.objects.filter(account=account, title="Forged").exists(),
        Issue.objects.get(pk=theirs.pk).title == "Renamed",
    ]
    return Sent(responses), _all_or_none(effects)


def run_action(client, action, account, user):
    """Send the request that performs `action`; return (response, whether it took effect)."""
    phase_before = account.phase

    def phase_moved_to(phase):
        return phase_before != phase and Account.objects.get(pk=account.pk).phase == phase

    if action == Action.ACCOUNT_VIEW:
        response = client.get(reverse("accounts:detail", args=[account.pk]))
        return response, response.status_code == 200
    if action == Action.ACCOUNT_CREATE:
        data = {"name": f"New by {user.username}", "submission": form_token()}
        response = client.post(reverse("accounts:create"), data)
        return response, Account.objects.filter(name=f"New by {user.username}").exists()
    if action == Action.ACCOUNT_EDIT:
        name = f"Renamed by {user.username}"
        response = _post(client, "accounts:edit", account, {"name": name, "version": 1})
        return response, Account.objects.get(pk=account.pk).name == name
    if action == Action.CHECKLIST_START:
        ChecklistItem.objects.filter(account=account).delete()
        response = _post(client, "closeout:checklist_start", account)
        return response, ChecklistItem.objects.filter(account=account).count() == 11
    if action == Action.CHECKLIST_EDIT:
        item = ChecklistItem.objects.get(account=account)
        response = client.post(
            reverse("closeout:checklist_item", args=[account.pk, item.pk]),
            {"item-1-status": "done", "item-1-version": item.version},
        )
        return response, ChecklistItem.objects.get(pk=item.pk).status == "done"
    if action == Action.HANDOFF_REQUEST:
        response = _post(client, "closeout:handoff_request", account)
        return response, phase_moved_to(READY)
    if action == Action.HANDOFF_WITHDRAW:
        response = _post(client, "closeout:handoff_withdraw", account)
        return response, phase_moved_to(IMPL)
    if action == Action.HANDOFF_ACKNOWLEDGE:
        response = _post(client, "closeout:handoff_acknowledge", account)
        return response, Closeout.objects.filter(account=account, ta_acknowledged_by=user).exists()
    if action == Action.HANDOFF_MARK_REVIEWED:
        response = _post(client, "closeout:handoff_mark_reviewed", account)
        return response, HandoffReview.objects.filter(account=account, reviewer=user).exists()
    if action == Action.CLOSEOUT_SIGN_OFF:
        form = client.get(reverse("closeout:sign_off", args=[account.pk]))
        response = _post(client, "closeout:sign_off", account, {"override_reason": "Forged or not"})
        assert form.status_code == (200 if response.status_code == 302 else 403)
        return response, SignOff.objects.filter(account=account).exists()
    if action == Action.RECORD_EDIT:
        return _record_edit(client, account, user)
    if action == Action.JOURNAL_ADD:
        title = f"Note by {user.username}"
        data = {"title": title, "category": "general", "kind": "info", "body": "Seen."}
        response = _post(client, "logs:journal_create", account, data)
        return response, JournalEntry.objects.filter(account=account, title=title).exists()
    if action == Action.JOURNAL_EDIT:
        entry = journal_entry_create(
            account=account, author=_someone_else(), title="Theirs", body="Text"
        )
        data = {"title": "Corrected", "category": "general", "kind": "info", "body": "Text"}
        response = _post(
            client, "logs:journal_edit", account, {**data, "version": 1}, entry_id=entry.pk
        )
        return response, JournalEntry.objects.get(pk=entry.pk).title == "Corrected"
    if action == Action.LOG_EDIT:
        return _log_edit(client, account, user)
    if action == Action.LOGS_OVERVIEW:
        responses = [
            client.get(reverse("logs:issue_overview")),
            client.get(reverse("logs:risk_heatmap")),
        ]
        return Sent(responses), all(r.status_code == 200 for r in responses)
    if action == Action.VITALLY_HEALTH:
        response = client.get(reverse("vitally_sync:health"))
        return response, response.status_code == 200
    if action == Action.VITALLY_IMPORT:
        return _vitally_import(client)
    if action == Action.CLOSEOUT_REOPEN:
        form = client.get(reverse("closeout:reopen", args=[account.pk]))
        response = _post(client, "closeout:reopen", account, {"reason": "Customer found a gap"})
        assert form.status_code == (200 if response.status_code == 302 else 403)
        return response, phase_moved_to(IMPL)
    raise AssertionError(f"no request for {action}")


def _vitally_import(client):
    """Import one mirrored Vitally account (no admins named: Vitally is not asked)."""
    import uuid

    from django.utils import timezone

    from vitally_sync.models import VitallyAccount

    row = VitallyAccount.objects.create(
        vitally_id=str(uuid.uuid4()),
        name=f"From Vitally {uuid.uuid4().hex[:8]}",
        vitally_updated_at=timezone.now(),
        last_seen_at=timezone.now(),
    )
    page = client.get(reverse("vitally_sync:import"))
    response = client.post(reverse("vitally_sync:import"), {"vitally_ids": [row.vitally_id]})
    assert page.status_code == (200 if response.status_code == 302 else 403)
    return response, Account.objects.filter(vitally_account_id=row.vitally_id).exists()


# Push now is forged over HTTP in tests/vitally_sync (403 for people who may not); can()
# covers its cells here. The admin answers with its own sign-in, not 403: its row is sent below.
HTTP_ROWS = [
    (action, phase)
    for action, phases in MATRIX.items()
    for phase in phases
    if action not in (Action.VITALLY_PUSH, Action.ADMIN_USE)
]


@pytest.mark.parametrize("action, phase", HTTP_ROWS)
def test_every_cell_over_http_including_forged_requests(client, people, template, action, phase):
    """Each person of the row sends the request, on a fresh account in that phase: allowed
    cells succeed and take effect, forbidden ones get 403 and change nothing."""
    wrong = []
    for index, person in enumerate(PERSONS):
        user = people[person]
        account = make_account(people, phase or IMPL)
        client.force_login(user)
        response, took_effect = run_action(client, action, account, user)
        allowed = MATRIX[action][phase][index]
        if allowed:
            ok = response.status_code in (200, 302) and took_effect is True
        else:
            ok = (
                response.status_code == 403
                and took_effect is False
                and Account.objects.get(pk=account.pk).phase == account.phase
            )
        if not ok:
            wrong.append((person, allowed, response.status_code, took_effect))
    assert wrong == []


@pytest.mark.parametrize("index", range(len(PERSONS)), ids=PERSONS)
def test_the_admin_row_over_http(client, people, index):
    """Who may use the admin opens it and a portal admin's list; everyone else gets the admin's
    sign-in for both (tests/security/test_bad_input_admin.py forges its writes)."""
    client.force_login(people[PERSONS[index]])
    responses = [
        client.get(reverse("admin:index")),
        client.get(reverse("admin:accounts_account_changelist")),
    ]
    if MATRIX[Action.ADMIN_USE][None][index]:
        assert [r.status_code for r in responses] == [200, 200]
    else:
        assert [r.status_code for r in responses] == [302, 302]
        assert all(r["Location"].startswith(reverse("admin:login")) for r in responses)


# --- Objects of another account ------------------------------------------------------------------
def test_posting_another_accounts_checklist_item_is_not_found(client, people):
    mine = make_account(people, IMPL)
    theirs = AccountFactory(phase=IMPL)
    their_item = ChecklistItem.objects.create(account=theirs, position=1, title="Syncing")
    client.force_login(people["ie_assigned"])  # may edit items of `mine`, not of `theirs`
    response = client.post(
        reverse("closeout:checklist_item", args=[mine.pk, their_item.pk]),
        {"item-1-status": "done", "item-1-version": 1},
    )
    assert response.status_code == 404
    their_item.refresh_from_db()
    assert their_item.status == "open"


def test_another_accounts_sign_off_is_not_found_under_this_account(client, people, template):
    mine = make_account(people, IMPL)
    theirs = make_account(people, READY)
    client.force_login(people["manager"])
    client.post(reverse("closeout:sign_off", args=[theirs.pk]), {"override_reason": "ok"})
    sign_off = SignOff.objects.get(account=theirs)
    assert (
        client.get(reverse("closeout:sign_off_detail", args=[mine.pk, sign_off.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("closeout:sign_off_markdown", args=[mine.pk, sign_off.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("closeout:sign_off_detail", args=[theirs.pk, sign_off.pk])).status_code
        == 200
    )


def test_posting_another_accounts_entries_by_id_is_not_found(client, people):
    """The manager may edit both accounts, and still cannot reach one account's rows through
    the other's URLs."""
    mine = make_account(people, IMPL)
    theirs = make_account(people, IMPL)
    author = _someone_else()
    rows = {
        "entry_id": journal_entry_create(account=theirs, author=author, title="T", body="x"),
        "issue_id": issue_create(account=theirs, actor=author, title="T", owner=author),
        "risk_id": risk_create(
            account=theirs,
            actor=author,
            title="T",
            description="Because …",
            likelihood=2,
            impact=2,
            owner=author,
        ),
        "opportunity_id": opportunity_create(account=theirs, actor=author, title="T", owner=author),
        "environment_id": environment_create(
            account=theirs, actor=author, kind="staging", data={"total_cpu": 4}
        ),
    }
    client.force_login(people["manager"])
    for name, key, data in [
        ("logs:journal_edit", "entry_id", {"title": "Hijacked", "body": "x", "version": 1}),
        ("logs:issue_edit", "issue_id", {"title": "Hijacked", "severity": "low", "version": 1}),
        ("logs:issue_status", "issue_id", {"status": "blocked"}),
        ("logs:risk_edit", "risk_id", {"title": "Hijacked", "version": 1}),
        ("logs:opportunity_stage", "opportunity_id", {"stage": "won"}),
        ("deployments:environment_edit", "environment_id", {**PRODUCTION_FORM, "kind": "test"}),
        ("deployments:environment_delete", "environment_id", {}),
    ]:
        row = rows[key]
        response = client.post(reverse(name, args=[mine.pk, row.pk]), data)
        assert (name, response.status_code) == (name, 404)
    for row in rows.values():
        fresh = type(row).objects.get(pk=row.pk)
        assert (fresh.version, getattr(fresh, "title", "T")) == (1, "T")


def test_a_service_refuses_a_forged_acknowledgement_by_someone_else(people):
    account = make_account(people, IMPL)
    with pytest.raises(Exception, match="Only the account's technical advisor"):
        services.handoff_acknowledge(account=account, actor=people["ta_other"])


@pytest.mark.parametrize(
    "name",
    [
        "handoff_request",
        "handoff_withdraw",
        "handoff_acknowledge",
        "handoff_mark_reviewed",
        "checklist_start",
    ],
)
def test_workflow_actions_refuse_get(client, people, name):
    account = make_account(people, IMPL)
    client.force_login(people["manager"])
    assert client.get(reverse(f"closeout:{name}", args=[account.pk])).status_code == 405


@pytest.mark.parametrize(
    "name",
    ["handoff", "handoff_markdown", "sign_off", "reopen", "handoff_request", "checklist_start"],
)
def test_anonymous_is_sent_to_sign_in(client, people, name):
    account = make_account(people, READY)
    url = reverse(f"closeout:{name}", args=[account.pk])
    response = client.post(url) if "request" in name or "start" in name else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert Account.objects.get(pk=account.pk).phase == READY


# --- The README shows the matrix the code decides ------------------------------------------------
def test_permission_matrix_command_matches_this_table():
    lines = matrix_markdown().splitlines()[2:]
    expected = [
        ["yes" if c else "—" for c in cells]
        for phases in MATRIX.values()
        for cells in phases.values()
    ]
    assert [line.strip("| ").split(" | ")[2:] for line in lines] == expected
    assert [title for title, *_ in PEOPLE] == [
        "IE (assigned)",
        "IE (other)",
        "TA (assigned)",
        "TA (other)",
        "Manager",
        "Admin (staff)",
    ]


def test_readme_shows_the_full_matrix():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert matrix_markdown() in readme
