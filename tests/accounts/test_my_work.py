"""My work (handoff/accounts/inbox.py): each role's lists, only the person's accounts, and one
query budget whatever the portfolio's size."""

import datetime
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from handoff.accounts.models import Account
from handoff.accounts.services import account_update
from handoff.closeout import services as closeout_services
from handoff.common.services import ANY_VERSION
from logs.models import Issue
from tests.closeout.test_queries import grow
from tests.factories import AccountFactory, UserFactory
from tests.logs.factories import IssueFactory, RiskFactory
from tests.phases import phase_move
from tests.query_budget import my_work_queries

pytestmark = pytest.mark.django_db

Phase = Account.Phase
SOON = timezone.localdate() + datetime.timedelta(days=10)


def portfolio(size: int, ie, ta, manager) -> None:
    """`size` times: an account in implementation (rows in every log, a planned completion in
    ten days, reviewed by the TA and changed since), one waiting for the TA's acknowledgement,
    and a handed-off one with an issue due for an update and a critical risk."""
    people = {"implementation_engineer": ie, "technical_advisor": ta, "manager": manager}
    for n in range(size):
        building = AccountFactory(name=f"Building {n:02}", planned_completion_date=SOON, **people)
        grow(building, [ie, ta, manager], 2)
        closeout_services.handoff_mark_reviewed(account=building, actor=ta)
        account_update(
            account=building,
            actor=ie,
            data={"crm_url": f"https://crm.example.com/{n}"},
            expected_version=ANY_VERSION,
        )
        ready = AccountFactory(name=f"Ready {n:02}", **people)
        phase_move(account=ready, actor=ie, to=Phase.READY_FOR_HANDOFF)
        handed = AccountFactory(name=f"Handed {n:02}", **people)
        phase_move(account=handed, actor=manager, to=Phase.HANDED_OFF)
        issue = IssueFactory(account=handed, owner=ta, severity="medium")
        Issue.objects.filter(pk=issue.pk).update(
            updated_at=timezone.now() - datetime.timedelta(days=60)
        )
        RiskFactory(account=handed, owner=ta, likelihood=5, impact=5)


def my_work(client):
    response = client.get(reverse("accounts:my_work"))
    assert response.status_code == 200
    return response


def lists(response) -> dict[str, list]:
    return {i.key: i.rows for i in response.context["inbox"].lists}


@pytest.mark.parametrize("role", ["ie", "ta", "manager"])
def test_my_work_costs_the_same_at_1x_and_10x(client_for, ie, ta, manager, template, role):
    person = {"ie": ie, "ta": ta, "manager": manager}[role]
    counts, rows = [], []
    for size in (1, 10):
        Account.objects.all().delete()
        portfolio(size, ie, ta, manager)
        client = client_for(person)
        with CaptureQueriesContext(connection) as queries:
            response = my_work(client)
        rows.append({key: len(found) for key, found in lists(response).items()})
        counts.append(len(queries))
    # Every list grew tenfold; the queries did not.
    assert rows[1] == {key: 10 * n for key, n in rows[0].items()}
    # The manager's records are those ready for sign-off, which have no deployment record here.
    expected = my_work_queries(
        records=role != "ta", reviews=role == "ta", with_environments=role == "ie"
    )
    assert counts == [expected, expected], counts


def test_the_engineer_sees_readiness_counts_and_the_next_step(
    client_for, ie, ta, manager, template
):
    portfolio(1, ie, ta, manager)
    response = my_work(client_for(ie))
    found = lists(response)
    assert list(found) == ["my-accounts"]  # the TA's and the manager's lists do not apply
    # Until sign-off: in implementation, and requested (still theirs to keep).
    row, requested = found["my-accounts"]
    assert (row.account.name, requested.account.name) == ("Building 00", "Ready 00")
    assert requested.next_step.title in [b.title for b in requested.record.readiness.blockers] + [
        "Waiting for the manager's sign-off"
    ]
    assert "Handed 00" not in response.content.decode()
    readiness = row.record.readiness
    page = response.content.decode()
    assert f"{readiness.percent}%" in page
    # grow(…, 2): an open critical issue and a high one in progress
    counts = {count.key: value for count, value, _ in row.counts}
    assert counts == {"open_issues": 2, "items_due": 0}
    # The first blocker the engineer can clear: the acknowledgement is the TA's to give.
    ack = f"{ta} has not acknowledged the account"
    assert readiness.blockers[0].title == ack
    assert row.next_step.title == readiness.blockers[1].title
    assert row.next_step.title in page
    assert "Not yet (" + str(ta) + ")" in page


def test_with_only_the_acknowledgement_left_the_next_step_is_request_handoff(
    client_for, ie, ta, manager, template
):
    from handoff.accounts.inbox import next_step_of
    from handoff.record import account_record_get
    from tests.closeout.conftest import record_deployment

    account = AccountFactory(implementation_engineer=ie, technical_advisor=ta, manager=manager)
    record_deployment(account, ie)
    record = account_record_get(account.pk)
    blockers = {b.title for b in record.readiness.blockers}
    step = next_step_of(record)
    assert step.title != f"{ta} has not acknowledged the account"
    assert step.title in blockers  # the checklist is not started yet
    closeout_services.checklist_start(account=account, actor=ie)
    for item in account_record_get(account.pk).checklist:
        closeout_services.checklist_item_update(
            item=item, actor=ie, data={"status": "done"}, expected_version=ANY_VERSION
        )
    record = account_record_get(account.pk)
    assert [b.title for b in record.readiness.blockers] == [
        f"{ta} has not acknowledged the account"
    ]
    assert next_step_of(record).title == "Request handoff"


def _readiness_lines(page: str) -> list[str]:
    """The account page's readiness block: one line per rule not met."""
    block = page[page.index('<div id="readiness"') : page.index('<div id="attention"')]
    return re.findall(r'<li class="rule-unmet">', block)


@pytest.mark.parametrize("role", ["ie", "manager"])
def test_my_work_counts_what_is_missing_as_the_readiness_block_does(
    client_for, ie, ta, manager, template, role
):
    """Rules, not individual blockers: the account page shows one line per rule not met ("7 of
    11 checklist items open"), and My work's lists say how many lines, with the same lines."""
    portfolio(1, ie, ta, manager)
    for account in Account.objects.filter(name__in=["Building 00", "Ready 00"]):
        closeout_services.checklist_start(account=account, actor=ie)  # a line for many items
    client = client_for({"ie": ie, "manager": manager}[role])
    response = my_work(client)
    key = {"ie": "my-accounts", "manager": "sign-off"}[role]
    row = lists(response)[key][0]
    readiness = row.record.readiness
    assert len(readiness.blockers) > len(readiness.unmet) > 1  # the figures would differ
    account_page = client.get(reverse("accounts:detail", args=[row.account.pk])).content.decode()
    n = len(_readiness_lines(account_page))
    assert n == len(readiness.unmet)
    page = response.content.decode()
    table = page[page.index(f'id="{key}"') :]
    cell = table[table.index('<details class="rule-lines">') : table.index("</details>")]
    assert f"<summary>{n} rules not met</summary>" in cell
    assert [html.unescape(line) for line in re.findall(r"<li>(.*?)</li>", cell)] == [
        r.summary for r in readiness.unmet
    ]
    assert f">{len(readiness.blockers)}<" not in table[: table.index("</table>")]


def test_the_technical_advisor_sees_acknowledgements_changes_and_items_due(
    client_for, ie, ta, manager, template
):
    portfolio(1, ie, ta, manager)
    response = my_work(client_for(ta))
    found = lists(response)
    assert list(found) == ["acknowledge", "changes", "items-due"]
    assert [a.name for a in found["acknowledge"]] == ["Ready 00"]
    ((account, changes),) = found["changes"]
    assert account.name == "Building 00"
    assert len(changes.groups) == 1  # the CRM link the engineer changed
    (due,) = found["items-due"]
    assert (due.name, due.issues_due, due.risks_due) == ("Handed 00", 1, 0)
    assert response.context["inbox"].count == 3


def test_the_manager_sees_sign_offs_planned_completions_and_critical_risks(
    client_for, ie, ta, manager, template
):
    portfolio(1, ie, ta, manager)
    found = lists(my_work(client_for(manager)))
    assert list(found) == ["sign-off", "planned-completion", "critical-risks"]
    (ready,) = found["sign-off"]
    assert ready.account.name == "Ready 00" and ready.record.readiness.blockers
    ((account, item),) = found["planned-completion"]
    assert account.name == "Building 00"
    assert item.title == f"Planned completion in 10 days, not acknowledged by {ta}"
    assert [r.account.name for r in found["critical-risks"]] == ["Handed 00"]


def test_only_my_accounts_and_my_teams(client_for, ie, ta, manager, template):
    portfolio(1, ie, ta, manager)
    other_ie = UserFactory(username="other-ie", role="ie")
    other_ta = UserFactory(username="other-ta", role="ta")
    other_manager = UserFactory(username="other-manager", role="manager")
    for user in (other_ie, other_ta, other_manager):
        response = my_work(client_for(user))
        assert response.context["inbox"].lists == []
        page = response.content.decode()
        assert "Nothing needs you right now" in page
        assert reverse("accounts:dashboard") in page
    # Another manager's team: their own account only.
    theirs = AccountFactory(name="Theirs", manager=other_manager, technical_advisor=other_ta)
    phase_move(account=theirs, actor=other_manager, to=Phase.READY_FOR_HANDOFF)
    found = lists(my_work(client_for(other_manager)))
    assert [row.account.name for row in found["sign-off"]] == ["Theirs"]
    assert "Theirs" not in my_work(client_for(manager)).content.decode()


def test_the_top_bar_count_comes_from_its_own_endpoint(client_for, ie, ta, manager, template):
    portfolio(1, ie, ta, manager)
    client = client_for(ta)
    page = my_work(client).content.decode()
    count_url = reverse("accounts:my_work_count")
    assert f'data-hx-get="{count_url}"' in page
    assert client.get(count_url).content.decode().strip().endswith("(3)</span>")
    nobody = client_for(UserFactory(username="nobody", role="ta"))
    assert "(" not in nobody.get(count_url).content.decode()


@pytest.mark.parametrize("role", ["ie", "ta", "manager"])
def test_the_count_equals_the_page_and_loads_no_record(client_for, ie, ta, manager, template, role):
    """Every page asks for the count: it counts the same lists as My work, without the records
    (what a list holds never depends on them), in a fixed number of queries."""
    person = {"ie": ie, "ta": ta, "manager": manager}[role]
    portfolio(3, ie, ta, manager)
    client = client_for(person)
    shown = sum(len(rows) for rows in lists(my_work(client)).values())
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("accounts:my_work_count")).content.decode()
    assert html.strip().endswith(f"({shown})</span>")
    expected = my_work_queries(records=False, reviews=role == "ta", count_only=True)
    assert len(queries) == expected


def test_a_long_list_of_readiness_shows_its_first_rows_and_links_to_the_rest(
    client_for, ie, ta, manager, template, settings
):
    from handoff.accounts import inbox

    for n in range(inbox.RECORD_ROWS_SHOWN + 2):
        ready = AccountFactory(
            name=f"Ready {n:02}", implementation_engineer=ie, technical_advisor=ta, manager=manager
        )
        phase_move(account=ready, actor=ie, to=Phase.READY_FOR_HANDOFF)
    client = client_for(manager)
    response = my_work(client)
    (sign_off,) = [i for i in response.context["inbox"].lists if i.key == "sign-off"]
    assert len(sign_off.rows) == inbox.RECORD_ROWS_SHOWN and sign_off.size == 27
    page = response.content.decode()
    assert f"The first {inbox.RECORD_ROWS_SHOWN} of 27." in page
    assert 'href="/accounts/?mine=on&amp;phase=ready_for_handoff">See all 27</a>' in page
    count = client.get(reverse("accounts:my_work_count")).content.decode()
    assert count.strip().endswith("(27)</span>")  # the count is the list's, not the rows shown


def test_the_dashboard_moved_and_old_links_keep_their_filters(client_for, ie):
    client = client_for(ie)
    response = client.get("/", {"q": "acme", "phase": "implementation"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/?q=acme&phase=implementation"
    assert client.get("/accounts/").context["page"] is not None
