"""A new, empty account linked to a Vitally account that already holds values (issue 16, item
2, as a walkthrough found it): the differences say they were held in Vitally when the account
was linked, not changed there by hand, everywhere they show; "Take Vitally's value" creates the
production deployment when there is none, as the import does, or says what to do; "Take all of
Vitally's values" takes what can be taken in one action; keeping an empty portal value says it
clears Vitally's. Real PostgreSQL and Redis, the fake Vitally over HTTP."""

import datetime

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse

from deployments.models import Environment
from deployments.services import environment_create
from handoff.accounts.models import Account
from handoff.accounts.services import account_create, account_update
from handoff.audit.models import AuditEvent
from handoff.common.services import ANY_VERSION
from handoff.people.models import User
from tests.factories import UserFactory
from tests.query_budget import (
    SYNC_HEALTH_QUERIES,
    account_page_queries,
    my_work_queries,
    vitally_page_queries,
)
from tests.vitally_sync.conftest import CPU, production_data
from vitally_sync.differences import (
    difference_keep,
    difference_take,
    differences_take_all,
)
from vitally_sync.mirror import mirror_pull
from vitally_sync.models import AccountSync, TraitDifference, VitallyAccount
from vitally_sync.reconcile import reconcile_pass
from vitally_sync.services import sync_account_push

pytestmark = pytest.mark.django_db

TYPE = "vitally.custom.deploymentType"
PROVIDER = "vitally.custom.infrastructureHostingProvider"
URL = "vitally.custom.sourcegraphInstanceUrl"
START = "vitally.custom.prodInfraStartDate"
END = "vitally.custom.prodInfraCompletionDate"
MEMORY = "vitally.custom.totalMemoryGb"
PHASE = "vitally.custom.handoffStatus"
ISSUES = "vitally.custom.openIssues"
# What Vitally holds for Globex before anyone links it: nine values of the production
# deployment's fields, and two the portal counts or moves through a workflow.
HELD = {
    TYPE: "Kubernetes with Helm",
    PROVIDER: "AWS",
    URL: "https://sg.globex.example",
    START: "2026-08-03T00:00:00.000Z",
    END: "2026-09-30T00:00:00.000Z",
    "vitally.custom.machineInstanceTypes": "3 × m6a.4xlarge",
    CPU: 48,
    MEMORY: 192,
    "vitally.custom.totalDiskSpaceGb": 2000,
    PHASE: "Handed off",
    ISSUES: 4,
}
TAKEABLE = 9


@pytest.fixture
def vitally_globex(fake_vitally, settings):
    def held(traits: dict) -> str:
        settings.VITALLY_MIRROR_SHARE = 1.0
        row = fake_vitally.account_create(external_id="globex", name="Globex", traits=traits)
        assert mirror_pull(full=True).completed
        return row["id"]

    return held


@pytest.fixture
def link(vitally_globex, ie, ta, manager):
    """A new account linked to Globex in Vitally, which holds `traits` (HELD by default)."""

    def linked(traits: dict | None = None) -> Account:
        vitally_id = vitally_globex(HELD if traits is None else traits)
        return account_create(
            actor=ie,
            name="Globex",
            vitally_account_id=vitally_id,
            implementation_engineer=ie,
            technical_advisor=ta,
            manager=manager,
        )

    return linked


@pytest.fixture
def linked(link):
    return link()


def found(account, key) -> TraitDifference:
    return TraitDifference.objects.get(account=account, trait_key=key)


def panel_of(client, account) -> str:
    page = client.get(reverse("vitally_sync:panel", args=[account.pk])).content.decode()
    return page[page.index('id="vitally-panel"') :]


def row_of(html: str, difference: TraitDifference) -> str:
    row = html[html.index(f'id="vitally-difference-{difference.pk}"') :]
    return row[: row.index("</li>")]


def shown(account) -> list[str]:
    """The take-all form's fields, as the panel renders them."""
    return [
        f"{d.pk}:{d.version}"
        for d in TraitDifference.objects.filter(account=account).order_by("pk")
    ]


def take_all(client, account, values=None, **extra):
    return client.post(
        reverse("vitally_sync:differences_take_all", args=[account.pk]),
        {"shown": shown(account) if values is None else values},
        **extra,
    )


def production_of(account) -> Environment | None:
    return Environment.objects.filter(account=account, kind=Environment.Kind.PRODUCTION).first()


# --- 1. where a difference came from, and its words ---------------------------------------------
def test_a_link_records_its_differences_as_held_at_the_link_and_a_read_back_keeps_that(
    linked, fake_vitally
):
    differences = TraitDifference.objects.filter(account=linked)
    assert differences.count() == len(HELD)
    assert set(differences.values_list("origin", flat=True)) == {"link"}
    # The push sends what Vitally lacks and leaves what it held; a read finds the same values
    # and they stay what they were: held at the link.
    assert sync_account_push(account_id=linked.pk).outcome.value == "pushed"
    reconcile_pass(due_only=False)
    assert set(differences.values_list("origin", flat=True)) == {"link"}
    assert differences.count() == len(HELD)
    # A value changed by hand in Vitally after a push is a read-back difference.
    vitally_id = linked.vitally_account_id
    fake_vitally.hand_edit(vitally_id, {"vitally.custom.openHighRisks": 3})
    reconcile_pass(due_only=False)
    assert found(linked, "vitally.custom.openHighRisks").origin == "read_back"


def test_the_panel_says_vitally_held_the_values_when_the_account_was_linked(linked, client_for, ie):
    panel = panel_of(client_for(ie), linked)
    section = panel[panel.index('id="vitally-differences"') :]
    assert (
        f"Vitally already held values for these {len(HELD)} fields when the account was linked, "
        "and the portal has not sent its own over them." in section
    )
    assert "after the portal sent" not in section and "by hand" not in section
    cpu = row_of(panel, found(linked, CPU))
    assert "<dt>Read from Vitally's account list</dt>" in cpu and "First seen" not in cpu
    # The words above say it of every row: no row repeats it.
    assert "difference-origin" not in section


def test_a_mixed_panel_says_each_rows_origin(linked, fake_vitally, client_for, ie):
    sync_account_push(account_id=linked.pk)
    fake_vitally.hand_edit(linked.vitally_account_id, {"vitally.custom.openHighRisks": 3})
    reconcile_pass(due_only=False)
    panel = panel_of(client_for(ie), linked)
    assert "some it already held when the account was linked, others someone changed there" in (
        panel
    )
    risks = row_of(panel, found(linked, "vitally.custom.openHighRisks"))
    assert "Someone changed this in Vitally after the portal sent its value." in risks
    assert "<dt>First seen</dt>" in risks
    cpu = row_of(panel, found(linked, CPU))
    assert (
        "Vitally already held this value when the account was linked; the portal has none." in cpu
    )
    phase = row_of(panel, found(linked, PHASE))  # the portal has a phase of its own
    assert (
        "Vitally already held this value when the account was linked; the portal has not sent "
        "its own over it." in phase
    )


def test_the_attention_list_my_work_and_the_sync_page_word_link_differences(
    linked, fake_vitally, client_for, ie, manager
):
    sync_account_push(account_id=linked.pk)
    client = client_for(ie)
    page = client.get(reverse("accounts:detail", args=[linked.pk])).content.decode()
    start = page.index('id="attention"')
    strip = page[start : page.index("</section>", start)]
    assert "Differs in Vitally: Total CPU" in strip
    assert "The portal: empty · Vitally: 48 · held in Vitally when the account was linked" in strip
    assert "changed in Vitally" not in strip

    my_work = client.get(reverse("accounts:my_work")).content.decode()
    assert (
        "Held in Vitally when linked: Start date of implementation of production infrastructure"
        in my_work
    )
    assert "Changed in Vitally:" not in my_work
    fake_vitally.hand_edit(linked.vitally_account_id, {"vitally.custom.openHighRisks": 3})
    reconcile_pass(due_only=False)
    my_work = client.get(reverse("accounts:my_work")).content.decode()
    assert "Handoff phase. Changed in Vitally: Open high/critical risks" in my_work

    health = client_for(manager).get(reverse("vitally_sync:health")).content.decode()
    row = health[health.index(f'href="/accounts/{linked.pk}/vitally/#vitally-differences"') :]
    row = row[: row.index("</td>")]
    assert f">{len(HELD) + 1} fields</a>" in row
    assert f"{len(HELD)} held in Vitally when linked" in row
    assert f'title="{len(HELD) + 1} fields differ in Vitally: keep' in health  # the badge


def test_the_saved_message_and_the_production_form_say_held_at_the_link(linked, client_for, ie):
    sync_account_push(account_id=linked.pk)
    client = client_for(ie)
    live = client.get(
        reverse("vitally_sync:panel", args=[linked.pk]), {"part": "badge"}
    ).content.decode()
    assert f"but for {len(HELD)} fields whose values Vitally already held when the account" in live
    assert "by hand" not in live
    form = client.get(reverse("deployments:production_edit", args=[linked.pk])).content.decode()
    notice = form[form.index('id="vitally-differs-notice"') :]
    assert "<strong>Held in Vitally when the account was linked:</strong>" in notice
    assert "by hand" not in notice[: notice.index("</div>")]


def test_keep_and_take_say_in_history_that_vitally_held_the_value_at_the_link(vitally_globex, ie):
    """An account with a production deployment, linked to Globex afterwards."""
    vitally_id = vitally_globex({**HELD, CPU: 64})
    account = account_create(actor=ie, name="Globex", implementation_engineer=ie)
    environment_create(
        account=account, actor=ie, kind=Environment.Kind.PRODUCTION, data=production_data()
    )
    account_update(
        account=Account.objects.get(pk=account.pk),
        actor=ie,
        data={"vitally_account_id": vitally_id},
        expected_version=ANY_VERSION,
    )
    cpu = found(account, CPU)
    assert (cpu.portal_value, cpu.vitally_value, cpu.origin) == (48, 64, "link")
    difference_keep(account=account, difference_id=cpu.pk, expected_version=cpu.version, actor=ie)
    kept = AuditEvent.objects.filter(account=account).latest("pk").message
    assert kept.startswith(
        "Kept the portal's value of Total CPU (48) over the value Vitally held when the account "
        "was linked (64, read "
    )
    assert kept.endswith("): it is sent to Vitally.")
    url = found(account, URL)
    difference_take(account=account, difference_id=url.pk, expected_version=url.version, actor=ie)
    taken = AuditEvent.objects.filter(account=account).latest("pk").message
    assert taken.startswith(
        "Taken from Vitally: Sourcegraph instance URL was https://sourcegraph.acme.example in "
        "the portal; Vitally held https://sg.globex.example when the account was linked (read "
    )


# --- 4. keeping an empty value clears Vitally's, and says so ------------------------------------
def test_keeping_an_empty_value_says_it_clears_vitallys_and_does(
    linked, client_for, ie, fake_vitally
):
    client = client_for(ie)
    cpu = found(linked, CPU)
    row = row_of(panel_of(client, linked), cpu)
    assert "Clear Vitally's value" in row and "Keep the portal's value" not in row
    phase = row_of(panel_of(client, linked), found(linked, PHASE))  # the portal has a phase
    assert "Keep the portal's value" in phase and "Clear Vitally" not in phase
    response = client.post(
        reverse("vitally_sync:difference_keep", args=[linked.pk, cpu.pk]),
        {"version": cpu.version},
        HTTP_HX_REQUEST="true",
    )
    assert (
        "Cleared Vitally&#x27;s value of Total CPU (48): the portal has none, and a worker "
        "deletes it in Vitally within seconds." in response.content.decode()
    )
    event = AuditEvent.objects.filter(account=linked).latest("pk")
    assert event.message.startswith(
        "Kept the portal's empty value of Total CPU over the value Vitally held when the "
        "account was linked (48, read "
    )
    assert event.message.endswith("Vitally's value is cleared at the next push.")
    assert sync_account_push(account_id=linked.pk).outcome.value == "pushed"
    traits = fake_vitally.account_get(linked.vitally_account_id)["traits"]
    assert CPU not in traits and traits[MEMORY] == 192  # only the kept one went


# --- 2. taking without a production deployment --------------------------------------------------
def test_take_creates_the_production_deployment_from_vitallys_type_and_provider(
    linked, client_for, ie
):
    cpu = found(linked, CPU)
    client = client_for(ie)
    # Said before the click: a first Take also takes the two values the deployment needs.
    notice = "There is no production deployment in the portal yet: taking any of Vitally"
    assert notice in panel_of(client, linked)
    response = client.post(
        reverse("vitally_sync:difference_take", args=[linked.pk, cpu.pk]),
        {"version": cpu.version},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert (
        "Took Vitally&#x27;s value of Total CPU (48). The portal had no production deployment: "
        "it was created with Vitally&#x27;s Deployment type (Kubernetes with Helm) and "
        "Infrastructure Hosting Provider (AWS). History records it." in html
    )
    production = production_of(linked)
    assert production.deployment_type == Environment.DeploymentType.KUBERNETES_HELM
    assert production.hosting_provider == Environment.HostingProvider.AWS
    assert production.total_cpu == 48 and production.total_memory_gb is None
    assert notice not in panel_of(client, linked)  # it exists now
    messages = list(
        AuditEvent.objects.filter(account=linked).order_by("pk").values_list("message", flat=True)
    )
    assert (
        "Taken from Vitally as the production deployment's first values: Deployment type "
        "Kubernetes with Helm; Infrastructure Hosting Provider AWS." in messages
    )
    assert messages[-1].startswith("Taken from Vitally: Total CPU was empty in the portal;")
    left = set(TraitDifference.objects.filter(account=linked).values_list("trait_key", flat=True))
    assert not left & {CPU, TYPE, PROVIDER} and len(left) == len(HELD) - 3
    assert AccountSync.objects.get(pk=linked.pk).differences == len(left)


def test_taking_the_deployment_type_itself_creates_the_deployment_with_it(linked, ie):
    difference = found(linked, TYPE)
    taken = difference_take(
        account=linked, difference_id=difference.pk, expected_version=difference.version, actor=ie
    )
    assert taken.difference.pk == difference.pk and len(taken.created_with) == 2
    assert production_of(linked).deployment_type == Environment.DeploymentType.KUBERNETES_HELM
    assert not TraitDifference.objects.filter(account=linked, trait_key__in=[TYPE, PROVIDER])


@pytest.mark.parametrize(
    "traits, says",
    [
        ({k: v for k, v in HELD.items() if k != PROVIDER},
         "Vitally holds no Infrastructure Hosting Provider"),
        ({**HELD, TYPE: "Nomad cluster"},
         "its Deployment type (Nomad cluster) is not one of the form&#x27;s choices"),
        ({**HELD, PROVIDER: "Other:"}, "the form refuses them ("),
    ],
)  # fmt: skip
def test_take_says_what_to_do_when_vitally_cannot_create_the_deployment(
    link, client_for, ie, traits, says
):
    account = link(traits)
    cpu = found(account, CPU)
    events = AuditEvent.objects.count()
    version = Account.objects.get(pk=account.pk).change_version
    client = client_for(ie)
    for extra in ({}, {"HTTP_HX_REQUEST": "true"}):  # without JavaScript, and with htmx
        response = client.post(
            reverse("vitally_sync:difference_take", args=[account.pk, cpu.pk]),
            {"version": cpu.version},
            **extra,
        )
        assert response.status_code == 200
        row = row_of(response.content.decode(), cpu)
        assert 'class="sync-error difference-error" role="alert"' in row
        assert "This account has no production deployment in the portal, and Vitally" in row
        assert says in row
        assert "Record the production deployment (its Deployment type and Infrastructure " in row
        link_to = reverse("deployments:production_edit", args=[account.pk])
        assert f'<a href="{link_to}">Record production deployment</a>' in row
    assert production_of(account) is None
    assert AuditEvent.objects.count() == events
    assert Account.objects.get(pk=account.pk).change_version == version
    assert TraitDifference.objects.filter(pk=cpu.pk, version=cpu.version).exists()


# --- 3. take all of Vitally's values ------------------------------------------------------------
def test_take_all_takes_every_value_the_record_can_and_keeps_the_rest_with_reasons(
    linked, client_for, ie, fake_vitally
):
    client = client_for(ie)
    response = take_all(client, linked)
    assert response.status_code == 302
    production = production_of(linked)
    assert (production.deployment_type, production.hosting_provider) == ("kubernetes_helm", "aws")
    assert production.sourcegraph_instance_url == "https://sg.globex.example"
    assert production.infra_start_date == datetime.date(2026, 8, 3)
    assert production.infra_completion_date == datetime.date(2026, 9, 30)
    assert (production.total_cpu, production.total_memory_gb, production.total_disk_space_gb) == (
        48,
        192,
        2000,
    )
    assert [(r.count, r.instance_type) for r in production.instance_types.all()] == [
        (3, "m6a.4xlarge")
    ]
    left = TraitDifference.objects.filter(account=linked).order_by("trait_key")
    assert list(left.values_list("trait_key", flat=True)) == [PHASE, ISSUES]
    taken = AuditEvent.objects.filter(account=linked, message__startswith="Taken from Vitally")
    assert taken.count() == TAKEABLE - 1  # type and provider in one event, with the creation
    page = client.get(response["Location"]).content.decode()
    assert (
        "Took Vitally&#x27;s values of 9 fields: Deployment type, Infrastructure Hosting "
        "Provider, Start date of implementation of production infrastructure" in page
    )
    assert (
        "The production deployment was created with Vitally&#x27;s Deployment type and "
        "Infrastructure Hosting Provider. History records each. 2 fields still differ: "
        "Open issues (counted from the Issues Log); Handoff phase (the phase moves only through "
        "the handoff workflow)." in page
    )
    # The push sends Vitally its own values back; only what a person must decide still differs.
    assert sync_account_push(account_id=linked.pk).outcome.value == "pushed"
    assert reconcile_pass(due_only=False).lines[0].label in ("Handoff phase", "Open issues")
    assert TraitDifference.objects.filter(account=linked).count() == 2


def test_take_all_over_htmx_marks_the_refused_field_and_takes_the_rest(link, client_for, ie):
    account = link({**HELD, CPU: -5})
    response = take_all(client_for(ie), account, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert '<p class="notice" role="status">Took Vitally&#x27;s values of 8 fields' in html
    assert (
        "3 fields still differ: Total CPU (the form refuses Vitally&#x27;s value: Ensure this "
        "value is greater than or equal to 1)" in html
    )
    cpu = row_of(html, found(account, CPU))
    assert 'class="sync-error difference-error" role="alert"' in cpu
    assert production_of(account).total_cpu is None
    assert production_of(account).total_memory_gb == 192


def test_take_all_tries_a_date_again_once_the_other_is_in(link, ie, fake_vitally):
    """The portal's completion date is 15 Oct; Vitally's start (1 Nov) is after it until
    Vitally's completion (1 Dec) is taken: taken in one go, in either order."""
    account = link({START: "2026-11-01T00:00:00.000Z", END: "2026-12-01T00:00:00.000Z", CPU: 64})
    environment_create(
        account=account, actor=ie, kind=Environment.Kind.PRODUCTION, data=production_data()
    )
    # Link again now that the record has values: the link compares them.
    TraitDifference.objects.filter(account=account).delete()
    from vitally_sync.linking import link_record

    link_record(account=account)
    assert TraitDifference.objects.filter(account=account).count() == 3
    report = differences_take_all(account=account, actor=ie)
    assert not report.left and len(report.taken) == 3
    production = production_of(account)
    assert (production.infra_start_date, production.infra_completion_date) == (
        datetime.date(2026, 11, 1),
        datetime.date(2026, 12, 1),
    )


def test_take_all_leaves_a_value_changed_since_the_page_was_shown(linked, client_for, ie):
    client = client_for(ie)
    values = shown(linked)
    cpu = found(linked, CPU)
    TraitDifference.objects.filter(pk=cpu.pk).update(vitally_value=96, version=F("version") + 1)
    # A difference found after the page was shown is not taken either.
    memory = found(linked, MEMORY)
    values.remove(f"{memory.pk}:{memory.version}")
    response = take_all(client, linked, values, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert (
        "Total CPU (Vitally&#x27;s value changed since the page was shown: look at it again)"
        in html
    )
    assert production_of(linked).total_cpu is None and production_of(linked).total_memory_gb is None
    assert set(
        TraitDifference.objects.filter(account=linked).values_list("trait_key", flat=True)
    ) == {CPU, MEMORY, PHASE, ISSUES}


def test_take_all_sent_twice_takes_once_and_says_so(linked, client_for, ie):
    client = client_for(ie)
    values = shown(linked)
    assert take_all(client, linked, values).status_code == 302
    events = AuditEvent.objects.count()
    again = take_all(client, linked, values, HTTP_HX_REQUEST="true").content.decode()
    assert '<div class="form-errors" role="alert"><p>Nothing was taken. 9 were no longer open' in (
        again
    )
    assert AuditEvent.objects.count() == events


def test_take_all_refused_when_vitally_cannot_create_the_deployment_changes_nothing(
    link, client_for, ie
):
    account = link({k: v for k, v in HELD.items() if k != TYPE})
    events = AuditEvent.objects.count()
    for extra in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = take_all(client_for(ie), account, **extra)
        assert response.status_code == 200
        html = response.content.decode()
        alert = html[html.index('<div class="form-errors" role="alert"><p>') :]
        alert = alert[: alert.index("</div>")]
        assert "Nothing was taken. This account has no production deployment in the portal" in (
            alert
        )
        assert "Vitally holds no Deployment type" in alert
        link_to = reverse("deployments:production_edit", args=[account.pk])
        assert f'<a href="{link_to}">Record production deployment</a>' in alert
        assert 'class="notice" role="status"' not in html
    assert production_of(account) is None and AuditEvent.objects.count() == events
    assert TraitDifference.objects.filter(account=account).count() == len(HELD) - 1


@pytest.mark.parametrize(
    "values",
    [[], ["abc"], ["1:"], ["1:2:3"], ["٣:1"], [f"{10**20}:1"], ["1:1"] * 201],
    ids=["none", "mangled", "no-version", "extra", "not-ascii", "huge", "too-many"],
)
def test_take_all_without_what_the_page_showed_changes_nothing(linked, client_for, ie, values):
    events = AuditEvent.objects.count()
    response = take_all(client_for(ie), linked, values, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert (
        '<div class="form-errors" role="alert"><p>This form was sent without the differences'
        in (html)
    )
    assert production_of(linked) is None and AuditEvent.objects.count() == events


@pytest.mark.parametrize("who", ["ta", "other_ie"])
def test_take_all_is_refused_to_people_who_may_not_take(linked, client_for, who, ta):
    if who == "ta":  # the account's advisor, before handoff: not the keeper
        person = ta
    else:
        person = UserFactory(username="other-ie", role=User.Role.IMPLEMENTATION_ENGINEER)
    client = client_for(person)
    assert "Take all of Vitally" not in panel_of(client, linked)
    events = AuditEvent.objects.count()
    assert take_all(client, linked).status_code == 403
    assert production_of(linked) is None and AuditEvent.objects.count() == events


def test_take_all_needs_post_and_the_csrf_token(linked, ie):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ie)
    url = reverse("vitally_sync:differences_take_all", args=[linked.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, {"shown": shown(linked)}).status_code == 403
    assert production_of(linked) is None


def test_take_all_is_offered_with_two_takeable_values_to_who_may_take(
    link, client_for, ie, manager
):
    account = link({CPU: 48, PHASE: "Handed off"})  # one takeable: its own button suffices
    assert "Take all of Vitally" not in panel_of(client_for(ie), account)
    Account.objects.filter(pk=account.pk).delete()
    VitallyAccount.objects.all().delete()
    account = link()
    for person in (ie, manager):
        panel = panel_of(client_for(person), account)
        form = panel[panel.index('class="take-all"') :]
        form = form[: form.index("</form>")]
        assert "Take all of Vitally&#x27;s values" in form or "Take all of Vitally's values" in form
        assert form.count('name="shown"') == len(HELD)
        assert f"each of the {TAKEABLE} fields below that offer it" in form


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_take_all_on_the_account_page_loads_it_again_whole(linked, client_for, ie, htmx):
    """The account page shows the production deployment the values went into: it comes back
    whole, from the top, with the message, not only its Vitally panel under a stale section."""
    client = client_for(ie)
    response = client.post(
        reverse("vitally_sync:differences_take_all", args=[linked.pk]),
        {"shown": shown(linked), "summary": "1"},
        **({"HTTP_HX_REQUEST": "true"} if htmx else {}),
    )
    page = reverse("accounts:detail", args=[linked.pk])
    if htmx:
        assert response.status_code == 200 and response["HX-Redirect"] == page
    else:
        assert response.status_code == 302 and response["Location"] == page
    html = client.get(page).content.decode()
    assert "Took Vitally&#x27;s values of 9 fields" in html
    assert "https://sg.globex.example" in html  # the production deployment's section


# --- the pages' query counts do not grow with the differences -----------------------------------
@pytest.mark.parametrize("many", [False, True])
def test_the_pages_cost_the_same_with_one_or_many_link_differences(
    link, client_for, ie, manager, many, django_assert_num_queries
):
    account = link(HELD if many else {CPU: 48})
    sync_account_push(account_id=account.pk)
    Account.objects.filter(pk=account.pk).update(change_version=F("change_version"))
    client = client_for(ie)
    with django_assert_num_queries(account_page_queries(with_environments=False)):
        page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert page.count("held in Vitally when the account was linked") == (len(HELD) if many else 1)
    with django_assert_num_queries(vitally_page_queries(with_environments=False)):
        client.get(reverse("vitally_sync:panel", args=[account.pk]))
    with django_assert_num_queries(
        my_work_queries(records=True, reviews=False, with_environments=False)
    ):
        my_work = client.get(reverse("accounts:my_work")).content.decode()
    assert "Held in Vitally when linked: " in my_work
    manager_client = client_for(manager)
    with django_assert_num_queries(SYNC_HEALTH_QUERIES):
        health = manager_client.get(reverse("vitally_sync:health")).content.decode()
    assert "held in Vitally when linked" in health


def test_the_panels_with_link_differences_are_valid_html(
    link, fake_vitally, client_for, ie, tmp_path
):
    from tests.test_html_validity import _vnu_errors

    account = link({k: v for k, v in HELD.items() if k != TYPE})
    sync_account_push(account_id=account.pk)
    fake_vitally.hand_edit(account.vitally_account_id, {"vitally.custom.openHighRisks": 3})
    reconcile_pass(due_only=False)  # a mixed panel: each row says where it came from
    client = client_for(ie)
    cpu = found(account, CPU)
    pages = {
        "account": client.get(reverse("accounts:detail", args=[account.pk])),
        "vitally": client.get(reverse("vitally_sync:panel", args=[account.pk])),
        "take refused": client.post(
            reverse("vitally_sync:difference_take", args=[account.pk, cpu.pk]),
            {"version": cpu.version},
        ),
        "take all refused": take_all(client, account),
        "my work": client.get(reverse("accounts:my_work")),
    }
    html = {name: response.content.decode() for name, response in pages.items()}
    assert "Take all of Vitally" in html["vitally"] and "difference-origin" in html["vitally"]
    assert "Record production deployment</a>" in html["take refused"]
    assert "Record production deployment</a>" in html["take all refused"]
    errors = _vnu_errors(html, tmp_path)
    assert not errors, "\n".join(errors)


def test_a_value_that_is_no_choice_of_the_form_is_not_offered_to_take(linked, client_for, ie):
    """Vitally's "Nomad" is no deployment type: the row says so before any click, instead of a
    Take that is always refused."""
    kind = found(linked, TYPE)
    TraitDifference.objects.filter(pk=kind.pk).update(vitally_value="Nomad")
    row = row_of(panel_of(client_for(ie), linked), kind)
    assert "Take Vitally's value" not in row
    assert (
        "Only the portal's value can be kept. Vitally&#x27;s value (Nomad) is not one of "
        "the form&#x27;s choices (“Other: Nomad” in Vitally would be)."
    ) in row
    assert "Keep the portal's value" in row or "Clear Vitally's value" in row
