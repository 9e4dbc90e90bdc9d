"""What people see of the differences reconcile finds in Vitally ("Differs in Vitally" on the
account's Vitally panel, the handoff page's attention strip, the admin), and what the account's
maintainer does about each field: keep the portal's value or take Vitally's. Real PostgreSQL and
Redis, the fake Vitally over HTTP."""

import datetime

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deployments.services import environment_update
from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from handoff.people.models import User
from tests.factories import AccountFactory, UserFactory
from tests.query_budget import account_page_queries
from tests.vitally_sync.conftest import CPU, difference, production
from vitally_sync.models import AccountSync, TraitDifference
from vitally_sync.reconcile import reconcile_pass
from vitally_sync.services import sync_account_push

pytestmark = pytest.mark.django_db


def panel_of(client, account) -> str:
    """The whole panel, as the Vitally page shows it (the account page shows its summary)."""
    page = client.get(reverse("vitally_sync:panel", args=[account.pk])).content.decode()
    return page[page.index('id="vitally-panel"') :]


def post(client, name, account, found, **extra):
    url = reverse(f"vitally_sync:difference_{name}", args=[account.pk, found.pk])
    return client.post(url, {"version": found.version}, **extra)


def test_a_difference_shows_on_the_panel_and_the_attention_strip(
    fake_vitally, hand_edited, client_for, ta, ie
):
    found = difference(hand_edited)
    panel = panel_of(client_for(ie), hand_edited)
    section = panel[panel.index('id="vitally-differences"') :]
    assert "<h3>Differs in Vitally</h3>" in section
    row = section[section.index(f'id="vitally-difference-{found.pk}"') :]
    row = row[: row.index("</li>")]
    assert "<strong>Total CPU</strong> <code>vitally.custom.totalCpu</code>" in row
    assert "<dt>The portal</dt><dd>48</dd>" in row and "<dt>Vitally</dt><dd>64</dd>" in row
    assert "First seen" in row
    assert "Keep the portal's value" in row and "Take Vitally's value" in row
    assert "Differs in Vitally: now 64" in panel  # beside the trait in the table too
    # The table's summary and Push now do not claim Vitally holds everything, or that all goes.
    assert "nothing to send" not in panel
    assert "The 1 field above differs in Vitally and is not sent until someone decides" in panel
    assert "but not the fields that differ in Vitally until someone decides" in panel
    assert "Last read back" in panel and "Never" not in panel.split("Last read back")[1][:80]

    page = client_for(ta).get(reverse("accounts:detail", args=[hand_edited.pk])).content.decode()
    start = page.index('id="attention"')
    strip = page[start : page.index("</section>", start)]
    assert "Differs in Vitally: Total CPU" in strip
    assert "The portal: 48 · Vitally: 64 · changed in Vitally, first seen" in strip
    assert f"#vitally-difference-{found.pk}" in strip


def test_the_edit_form_says_which_fields_were_changed_in_vitally_before_a_save(
    fake_vitally, hand_edited, client_for, ie
):
    """A new value saved in the portal replaces Vitally's hand-edited one: the production form
    says so before the edit, naming both values; the code hosts form, whose fields agree, does
    not; and once the difference is resolved the notice is gone."""
    client = client_for(ie)
    form = client.get(reverse("deployments:production_edit", args=[hand_edited.pk]))
    html = form.content.decode()
    notice = html[html.index('id="vitally-differs-notice"') :]
    notice = notice[: notice.index("</div>")]
    assert "Total CPU (Vitally holds 64, the portal 48)" in notice
    assert "a new value saved here replaces Vitally's" in notice
    assert reverse("vitally_sync:panel", args=[hand_edited.pk]) + "#vitally-differences" in notice
    hosts = client.get(reverse("deployments:code_hosts_edit", args=[hand_edited.pk]))
    assert "vitally-differs-notice" not in hosts.content.decode()

    found = difference(hand_edited)
    post(client, "keep", hand_edited, found)
    form = client.get(reverse("deployments:production_edit", args=[hand_edited.pk]))
    assert "vitally-differs-notice" not in form.content.decode()


def test_a_difference_found_shows_at_once(fake_vitally, deployed, client_for, manager):
    client = client_for(manager)
    urls = [
        reverse("accounts:detail", args=[deployed.pk]),
        reverse("vitally_sync:panel", args=[deployed.pk]),
    ]
    for url in urls:
        assert "Differs in Vitally" not in client.get(url).content.decode()
    fake_vitally.hand_edit(deployed.vitally_account_id, {CPU: 64})
    reconcile_pass(due_only=False)
    for url in urls:
        assert "Differs in Vitally" in client.get(url).content.decode()


def test_an_unrelated_push_leaves_the_difference_shown(fake_vitally, hand_edited, ie, client_for):
    environment = production(hand_edited)
    environment_update(
        environment=environment,
        actor=ie,
        data={"total_memory_gb": 256},
        expected_version=environment.version,
    )
    assert sync_account_push(account_id=hand_edited.pk).outcome.value == "pushed"
    panel = panel_of(client_for(ie), hand_edited)
    assert "<h3>Differs in Vitally</h3>" in panel and "<strong>Total CPU</strong>" in panel


def test_keep_the_portals_value_pushes_it_back_and_the_difference_clears(
    fake_vitally, hand_edited, ie, client_for, django_capture_on_commit_callbacks
):
    found = difference(hand_edited)
    version = Account.objects.get(pk=hand_edited.pk).change_version
    with django_capture_on_commit_callbacks(execute=False) as kicks:
        response = post(client_for(ie), "keep", hand_edited, found)
    assert response.status_code == 302
    assert response["Location"] == reverse("vitally_sync:panel", args=[hand_edited.pk])
    assert kicks  # the push is kicked on commit (the change version is the durable intent)
    assert not TraitDifference.objects.exists()
    assert Account.objects.get(pk=hand_edited.pk).change_version == version + 1
    assert CPU not in AccountSync.objects.get(pk=hand_edited.pk).acked_traits
    event = AuditEvent.objects.filter(account=hand_edited).latest("pk")
    assert event.actor == ie and event.action == AuditEvent.Kind.ACTION
    assert event.message.startswith("Kept the portal's value of Total CPU (48) over Vitally's (64")
    assert sync_account_push(account_id=hand_edited.pk).outcome.value == "pushed"
    assert fake_vitally.puts(hand_edited.vitally_account_id)[-1]["body"]["traits"] == {CPU: 48}
    assert fake_vitally.account_get(hand_edited.vitally_account_id)["traits"][CPU] == 48
    assert reconcile_pass(due_only=False).lines == []
    page = client_for(ie).get(reverse("accounts:detail", args=[hand_edited.pk])).content.decode()
    assert "Kept the portal&#x27;s value of Total CPU (48)" in page  # the message
    assert "Differs in Vitally" not in page


def test_keep_over_htmx_returns_the_panel_with_a_notice(fake_vitally, hand_edited, ie, client_for):
    response = post(client_for(ie), "keep", hand_edited, difference(hand_edited),
                    HTTP_HX_REQUEST="true")  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page and 'id="vitally-panel"' in page
    assert "Kept the portal&#x27;s value of Total CPU (48)" in page
    assert "Differs in Vitally" not in page and 'class="badge sync-pending' in page


def test_keep_is_refused_while_a_push_holds_the_account(fake_vitally, hand_edited, ie, client_for):
    AccountSync.objects.filter(pk=hand_edited.pk).update(
        lease_token="00000000-0000-0000-0000-000000000001",
        lease_until=timezone.now() + datetime.timedelta(seconds=30),
    )
    response = post(client_for(ie), "keep", hand_edited, difference(hand_edited),
                    HTTP_HX_REQUEST="true")  # fmt: skip
    assert "A push to Vitally is under way for this account" in response.content.decode()
    assert TraitDifference.objects.exists()
    assert CPU in AccountSync.objects.get(pk=hand_edited.pk).acked_traits


def test_a_stale_or_resolved_difference_changes_nothing(fake_vitally, hand_edited, ie, client_for):
    found = difference(hand_edited)
    client = client_for(ie)
    url = reverse("vitally_sync:difference_keep", args=[hand_edited.pk, found.pk])
    stale = client.post(url, {"version": found.version + 1}, HTTP_HX_REQUEST="true")
    assert "Vitally&#x27;s value of this field changed since the page was shown" in (
        stale.content.decode()
    )
    missing = client.post(url, {}, HTTP_HX_REQUEST="true")
    assert "This form was sent without its version" in missing.content.decode()
    assert TraitDifference.objects.filter(pk=found.pk, version=found.version).exists()
    assert client.post(url, {"version": found.version}).status_code == 302
    again = client.post(url, {"version": found.version})  # a double click: already resolved
    assert again.status_code == 200
    assert "This difference is no longer open" in again.content.decode()
    assert AuditEvent.objects.filter(message__startswith="Kept the portal").count() == 1


@pytest.mark.parametrize(
    "key, vitally, field, expected",
    [
        (CPU, 64, "total_cpu", 64),
        ("vitally.custom.totalDiskSpaceGb", 4000.0, "total_disk_space_gb", 4000),
        ("vitally.custom.deploymentType", "Docker Compose", "deployment_type", "docker_compose"),
        ("vitally.custom.infrastructureHostingProvider", "Other: Hetzner", "hosting_provider",
         "other"),
        ("vitally.custom.prodInfraStartDate", "2026-08-15T00:00:00.000Z", "infra_start_date",
         datetime.date(2026, 8, 15)),
        ("vitally.custom.sourcegraphInstanceUrl", "https://sg.acme.example",
         "sourcegraph_instance_url", "https://sg.acme.example"),
        ("vitally.custom.prodInfraCompletionDate", None, "infra_completion_date", None),
    ],
)  # fmt: skip
def test_take_vitallys_value_edits_the_portal_through_the_service_with_an_audit_event(
    fake_vitally, deployed, ie, client_for, key, vitally, field, expected
):
    fake_vitally.hand_edit(deployed.vitally_account_id, {key: vitally})
    reconcile_pass(due_only=False)
    found = difference(deployed, key)
    before = production(deployed)
    response = post(client_for(ie), "take", deployed, found)
    assert response.status_code == 302
    after = production(deployed)
    assert getattr(after, field) == expected and after.version == before.version + 1
    if field == "hosting_provider":
        assert after.hosting_provider_other == "Hetzner"
    event = AuditEvent.objects.filter(account=deployed).latest("pk")
    assert event.action == AuditEvent.Kind.UPDATE and event.actor == ie
    assert event.message.startswith(f"Taken from Vitally: {found.label} was ")
    assert [change["field"] for change in event.changes][0] == field
    assert not TraitDifference.objects.exists()
    # The push that follows sends Vitally its own value; the next read agrees.
    assert sync_account_push(account_id=deployed.pk).outcome.value == "pushed"
    assert reconcile_pass(due_only=False).lines == []


def test_take_machine_instance_types_rewrites_the_rows(fake_vitally, deployed, ie, client_for):
    key = "vitally.custom.machineInstanceTypes"
    fake_vitally.hand_edit(deployed.vitally_account_id, {key: "4 × m6a.8xlarge, 2 x r6a.2xlarge"})
    reconcile_pass(due_only=False)
    assert post(client_for(ie), "take", deployed, difference(deployed, key)).status_code == 302
    rows = [(r.count, r.instance_type) for r in production(deployed).instance_types.all()]
    assert rows == [(4, "m6a.8xlarge"), (2, "r6a.2xlarge")]
    event = AuditEvent.objects.filter(account=deployed).latest("pk")
    assert event.changes[0]["label"] == "Machine Instance Types"
    assert sync_account_push(account_id=deployed.pk).outcome.value == "pushed"
    assert reconcile_pass(due_only=False).lines == []


@pytest.mark.parametrize(
    "key, vitally, message",
    [
        (CPU, -5, "Ensure this value is greater than or equal to 1."),
        (CPU, 2.5, "Enter a whole number."),
        ("vitally.custom.deploymentType", "Nomad cluster", "Select a valid choice."),
        ("vitally.custom.deploymentType", None, "This field is required."),
        ("vitally.custom.sourcegraphInstanceUrl", "javascript:alert(1)",
         "Enter a link that starts with http:// or https://."),
        ("vitally.custom.prodInfraStartDate", "2026-11-01T00:00:00.000Z",
         "The completion date cannot be before the start date."),
        ("vitally.custom.prodInfraStartDate", "soon", "Enter a valid date."),
        ("vitally.custom.machineInstanceTypes", "lots of machines", "is not a row like"),
        ("vitally.custom.machineInstanceTypes", "0 × m6a.large", "greater than or equal to 1"),
    ],
)  # fmt: skip
def test_a_value_the_form_would_refuse_is_shown_beside_the_field_and_nothing_changes(
    fake_vitally, deployed, ie, client_for, key, vitally, message
):
    fake_vitally.hand_edit(deployed.vitally_account_id, {key: vitally})
    reconcile_pass(due_only=False)
    found = difference(deployed, key)
    before = production(deployed)
    events = AuditEvent.objects.count()
    version = Account.objects.get(pk=deployed.pk).change_version
    client = client_for(ie)
    for extra in ({}, {"HTTP_HX_REQUEST": "true"}):  # without JavaScript, and with htmx
        response = post(client, "take", deployed, found, **extra)
        assert response.status_code == 200
        page = response.content.decode()
        assert ("<html" in page) is not bool(extra)
        row = page[page.index(f'id="vitally-difference-{found.pk}"') :]
        row = row[: row.index("</li>")]
        assert 'class="sync-error difference-error" role="alert"' in row
        assert "The form refuses Vitally&#x27;s value" in row and message in row
    after = production(deployed)
    assert (after.version, after.updated_at) == (before.version, before.updated_at)
    assert [(r.count, r.instance_type) for r in after.instance_types.all()] == [(3, "m6a.4xlarge")]
    assert AuditEvent.objects.count() == events
    assert Account.objects.get(pk=deployed.pk).change_version == version
    assert TraitDifference.objects.filter(pk=found.pk, version=found.version).exists()


@pytest.mark.parametrize(
    "key, vitally, reason, keep",
    [
        ("vitally.custom.handoffStatus", "Handed off",
         "The phase moves only through the handoff workflow.", "Keep the portal's value"),
        ("vitally.custom.openIssues", 5, "Counted from the Issues Log.", "Keep the portal's value"),
        # No code host in the portal: keeping its empty value clears Vitally's, and says so.
        ("vitally.custom.numberOfRepositories", 9000, "Counted from the code host connections",
         "Clear Vitally's value"),
        ("vitally.custom.technicalDesignDocuments", "https://elsewhere.example/tdd",
         "Each link has a title in the portal", "Keep the portal's value"),
    ],
)  # fmt: skip
def test_derived_values_offer_only_keep_with_a_reason(
    fake_vitally, deployed, ie, client_for, key, vitally, reason, keep
):
    fake_vitally.hand_edit(deployed.vitally_account_id, {key: vitally})
    reconcile_pass(due_only=False)
    found = difference(deployed, key)
    panel = panel_of(client_for(ie), deployed)
    row = panel[panel.index(f'id="vitally-difference-{found.pk}"') :]
    row = row[: row.index("</li>")]
    assert keep in row and "Take Vitally's value" not in row
    assert f"Only the portal's value can be kept. {reason}" in row
    events = AuditEvent.objects.count()
    forged = post(client_for(ie), "take", deployed, found, HTTP_HX_REQUEST="true")
    assert reason.replace("'", "&#x27;") in forged.content.decode()
    assert AuditEvent.objects.count() == events and TraitDifference.objects.count() == 1


def test_take_is_refused_when_the_portals_value_changed_since_the_read(
    fake_vitally, hand_edited, ie, client_for
):
    environment = production(hand_edited)
    environment_update(
        environment=environment,
        actor=ie,
        data={"total_cpu": 56},
        expected_version=environment.version,
    )
    found = difference(hand_edited)
    # A form shown before is refused rather than overwrite the newer 56 with Vitally's 64...
    response = post(client_for(ie), "take", hand_edited, found, HTTP_HX_REQUEST="true")
    assert "The portal&#x27;s value changed since Vitally was read (it is now 56)" in (
        response.content.decode()
    )
    assert production(hand_edited).total_cpu == 56
    # ...and once 56 is pushed (which overwrites Vitally's 64), the difference no longer shows.
    assert sync_account_push(account_id=hand_edited.pk).outcome.value == "pushed"
    assert "Differs in Vitally" not in panel_of(client_for(ie), hand_edited)
    assert reconcile_pass(due_only=False).lines == []
    assert not TraitDifference.objects.exists()


@pytest.mark.parametrize("who", ["ta", "other_ie"])
def test_people_who_may_not_get_403_and_nothing_changes(
    fake_vitally, hand_edited, client_for, who, ta
):
    person = (
        ta
        if who == "ta"
        else UserFactory(username="other-ie", role=User.Role.IMPLEMENTATION_ENGINEER)
    )
    found = difference(hand_edited)
    client = client_for(person)
    assert "Keep the portal's value" not in panel_of(client, hand_edited)
    assert "Differs in Vitally" in panel_of(client, hand_edited)  # they see it, read-only
    events = AuditEvent.objects.count()
    for name in ("keep", "take"):
        assert post(client, name, hand_edited, found).status_code == 403
    assert AuditEvent.objects.count() == events
    assert production(hand_edited).total_cpu == 48
    assert TraitDifference.objects.filter(pk=found.pk).exists()
    assert CPU in AccountSync.objects.get(pk=hand_edited.pk).acked_traits


def test_resolving_needs_post_and_the_csrf_token(fake_vitally, hand_edited, ie):
    found = difference(hand_edited)
    client = Client(enforce_csrf_checks=True)
    client.force_login(ie)
    for name in ("keep", "take"):
        url = reverse(f"vitally_sync:difference_{name}", args=[hand_edited.pk, found.pk])
        assert client.get(url).status_code == 405
        assert client.post(url, {"version": found.version}).status_code == 403
    assert TraitDifference.objects.filter(pk=found.pk).exists()
    assert production(hand_edited).total_cpu == 48


def test_a_difference_of_another_account_is_not_found(fake_vitally, hand_edited, ie, client_for):
    found = difference(hand_edited)
    mine = AccountFactory(name="Mine", vitally_account_id="mine", implementation_engineer=ie)
    url = reverse("vitally_sync:difference_keep", args=[mine.pk, found.pk])
    response = client_for(ie).post(url, {"version": found.version})
    assert "This difference is no longer open" in response.content.decode()
    assert TraitDifference.objects.filter(pk=found.pk).exists()


@pytest.mark.parametrize("count", [1, 4])
def test_the_pages_cost_the_same_queries_with_one_or_several_differences(
    fake_vitally, deployed, ie, ta, client_for, settings, count, django_assert_num_queries
):
    keys = [CPU, "vitally.custom.totalMemoryGb", "vitally.custom.totalDiskSpaceGb",
            "vitally.custom.handoffStatus"][:count]  # fmt: skip
    fake_vitally.hand_edit(deployed.vitally_account_id, dict.fromkeys(keys, 7))
    reconcile_pass(due_only=False)
    assert TraitDifference.objects.count() == count
    from tests.closeout.conftest import record_deployment

    record_deployment(deployed, ie)  # a code host: the pages' usual shape
    Account.objects.filter(pk=deployed.pk).update(change_version=F("change_version"))
    client = client_for(ta)
    with django_assert_num_queries(account_page_queries()):
        page = client.get(reverse("accounts:detail", args=[deployed.pk])).content.decode()
    assert page.count("Differs in Vitally: ") >= count
    with django_assert_num_queries(account_page_queries()):
        client.get(reverse("accounts:detail", args=[deployed.pk]))


def test_the_attention_items_read_the_record(fake_vitally, hand_edited, django_assert_num_queries):
    from handoff.record import account_record_get
    from vitally_sync.contribution import vitally_difference_items

    loaded = account_record_get(hand_edited.pk)
    with django_assert_num_queries(0):
        items = vitally_difference_items(loaded)
    assert [(i.level, i.title) for i in items] == [("warning", "Differs in Vitally: Total CPU")]


def test_the_admin_lists_differences_read_only_with_a_field_filter(
    fake_vitally, hand_edited, client, admin_user
):
    client.force_login(admin_user)
    url = reverse("admin:vitally_sync_traitdifference_changelist")
    listing = client.get(url, {"field": "total_cpu"}).content.decode()
    assert "Acme Robotics" in listing and "vitally.custom.totalCpu" in listing
    assert "Acme Robotics" not in client.get(url, {"field": "open_issues"}).content.decode()
    assert client.get(reverse("admin:vitally_sync_traitdifference_add")).status_code == 403
    found = difference(hand_edited)
    change = client.get(reverse("admin:vitally_sync_traitdifference_change", args=[found.pk]))
    assert change.status_code == 200 and 'name="vitally_value"' not in change.content.decode()


def test_pages_with_differences_are_valid_html(fake_vitally, hand_edited, ie, client_for, tmp_path):
    from tests.test_html_validity import _vnu_errors

    fake_vitally.hand_edit(hand_edited.vitally_account_id, {"vitally.custom.handoffStatus": "X"})
    reconcile_pass(due_only=False)
    client = client_for(ie)
    refused = difference(hand_edited)
    fake_vitally.hand_edit(hand_edited.vitally_account_id, {CPU: -1})
    reconcile_pass(due_only=False)
    refused = difference(hand_edited)
    pages = {
        "account": client.get(reverse("accounts:detail", args=[hand_edited.pk])),
        "handoff": client.get(reverse("accounts:detail", args=[hand_edited.pk])),
        "refused": post(client, "take", hand_edited, refused),
    }
    assert all(response.status_code == 200 for response in pages.values())
    assert "The form refuses" in pages["refused"].content.decode()
    errors = _vnu_errors({k: r.content.decode() for k, r in pages.items()}, tmp_path)
    assert not errors, "\n".join(errors)


def _row_locks(queries) -> list[str]:
    """The tables each SELECT ... FOR UPDATE locked, in order ("FOR UPDATE" alone locks every
    table the statement joins)."""
    locks = []
    for query in queries:
        sql = query["sql"]
        if " FOR UPDATE" not in sql:
            continue
        # A join (a default ordering by the account) would lock the joined rows too.
        assert " JOIN " not in sql or " FOR UPDATE OF " in sql, sql
        locks.append(sql.split(" FROM ", 1)[1].split('"')[1])
    return locks


@pytest.mark.parametrize("resolution", ["keep", "take"])
def test_keep_and_take_lock_the_sync_row_then_the_difference_and_never_the_account(
    fake_vitally, deployed, ie, resolution
):
    """The web scanner once sent Keep and Take on one difference at once: Keep held the sync
    row and, through its ordering join, the account row, and waited for the difference, which
    Take held while it waited for the account: PostgreSQL's deadlock error, a 500. Both now lock
    the same rows in the same order, so the second waits and is then refused."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from vitally_sync.differences import difference_keep, difference_take

    fake_vitally.hand_edit(deployed.vitally_account_id, {CPU: 64})
    reconcile_pass(due_only=False)
    found = difference(deployed)
    resolve = difference_keep if resolution == "keep" else difference_take
    with CaptureQueriesContext(connection) as queries:
        resolve(account=deployed, difference_id=found.pk, expected_version=found.version, actor=ie)
    expected = ["vitally_sync_accountsync", "vitally_sync_traitdifference"]
    if resolution == "take":
        expected += ["deployments_environment", "deployments_environment"]
    assert _row_locks(queries.captured_queries)[: len(expected)] == expected
    assert "accounts_account" not in _row_locks(queries.captured_queries)


def test_my_work_sends_a_difference_to_whoever_may_resolve_it(
    fake_vitally, hand_edited, client_for, ie, ta, manager
):
    """The keeper (the implementation engineer until sign-off, the technical advisor after it)
    may keep the portal's value or take Vitally's: My work lists the difference for them only."""
    from handoff.accounts.models import Account
    from tests.phases import phase_move

    def listed(person) -> bool:
        inbox = client_for(person).get(reverse("accounts:my_work")).context["inbox"]
        return "vitally-differences" in [i.key for i in inbox.lists]

    Account.objects.filter(pk=hand_edited.pk).update(technical_advisor=ta, manager=manager)
    assert listed(ie) and not listed(ta)
    phase_move(account=Account.objects.get(pk=hand_edited.pk), actor=manager, to="handed_off")
    assert listed(ta) and not listed(ie)
