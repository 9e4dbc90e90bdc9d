"""The workflow's writes: checklist, phases, sign-off (refused, overridden, snapshot frozen),
reopening, acknowledgement; their audit events, change versions and e-mails."""

import copy

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from deployments.models import Environment
from deployments.services import InstanceSpec, code_host_create, environment_update
from handoff.accounts.models import Account
from handoff.accounts.services import account_update
from handoff.audit.models import AuditEvent
from handoff.closeout import services
from handoff.closeout.models import ChecklistItem, ChecklistTemplateItem, SignOff
from handoff.closeout.snapshot import snapshot_digest
from handoff.common.services import ANY_VERSION, ConcurrentEditError, MissingVersionError
from logs.services import (
    issue_create,
    issue_status_change,
    journal_entry_create,
    opportunity_create,
    opportunity_stage_change,
    risk_create,
    risk_update,
)
from tests.closeout.conftest import HANDBOOK_ITEMS, ready_account, settle

pytestmark = pytest.mark.django_db
Phase = Account.Phase


# --- Checklist ---------------------------------------------------------------------------------
def test_the_template_is_the_handbooks_closeout_definition_and_exit_criteria(template):
    assert [t.title for t in template] == [
        "Infrastructure for all customer environments",
        "Sourcegraph deployment and resourcing",
        "Code host connections",
        "Syncing",
        "Indexing",
        "General site configuration",
        "Admin accounts provisioned and admins trained",
        "Scoped features working",
        "Performance tests done",
        "Production right-sized or a plan in place",
        "Production on a current version",
    ]
    assert [t for t, _ in HANDBOOK_ITEMS] == [t.title for t in template]


def test_start_copies_the_active_template_in_order(account, ie, template):
    services.checklist_template_item_update(item=template[2], actor=ie, data={"is_active": False})
    before = account.change_version
    items = services.checklist_start(account=account, actor=ie)
    assert [i.title for i in items] == [t.title for t in template if t != template[2]]
    assert [i.position for i in items] == list(range(1, 11))
    assert all(i.status == ChecklistItem.Status.OPEN for i in items)
    event = AuditEvent.objects.get(account=account, object_type="closeout.closeout")
    assert event.message == "Started the closeout checklist"
    assert event.changes[0]["after"] == "Started with 10 items"
    assert event.actor == ie
    account.refresh_from_db()
    assert account.change_version == before + 1
    assert account.closeout.checklist_started_by == ie


def test_an_account_keeps_the_items_it_started_with(account, ie, manager, template, admin_user):
    from tests.factories import AccountFactory

    services.checklist_start(account=account, actor=ie)
    services.checklist_template_item_update(
        item=template[0], actor=admin_user, data={"title": "Infrastructure, renamed"}
    )
    services.checklist_template_item_update(
        item=template[1], actor=admin_user, data={"is_active": False}
    )
    services.checklist_template_item_create(
        actor=admin_user, title="Monitoring handed over", position=999
    )
    kept = list(account.checklist_items.values_list("title", flat=True))
    assert kept == [t for t, _ in HANDBOOK_ITEMS]

    later = AccountFactory(name="Later Customer")
    titles = [i.title for i in services.checklist_start(account=later, actor=manager)]
    assert titles[0] == "Infrastructure, renamed"
    assert "Sourcegraph deployment and resourcing" not in titles
    assert titles[-1] == "Monitoring handed over"
    # Template edits are audited too, without an account.
    assert AuditEvent.objects.filter(
        account=None, object_type="closeout.checklisttemplateitem"
    ).exists()


def test_two_active_template_items_never_share_a_title(template, admin_user):
    """A double-clicked "Save" in the admin, a new item, a rename or a reactivation would put the
    same line twice in every new checklist: each is refused and writes nothing."""
    first, second = template[0], template[1]
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.checklist_template_item_create(actor=admin_user, title=first.title)
    assert "already has this title" in str(refused.value.message_dict["title"])
    with pytest.raises(ValidationError):  # only the title changes: the rule still reads both
        services.checklist_template_item_update(
            item=second, actor=admin_user, data={"title": first.title}
        )
    services.checklist_template_item_update(item=first, actor=admin_user, data={"is_active": False})
    retired = services.checklist_template_item_create(actor=admin_user, title="Retired check")
    services.checklist_template_item_update(
        item=retired, actor=admin_user, data={"is_active": False}
    )
    # An inactive item may share its title; reactivating it is refused while the other is active.
    services.checklist_template_item_create(actor=admin_user, title="Retired check")
    with pytest.raises(ValidationError):
        services.checklist_template_item_update(
            item=retired, actor=admin_user, data={"is_active": True}
        )
    assert ChecklistTemplateItem.objects.filter(title="Retired check", is_active=True).count() == 1
    assert AuditEvent.objects.count() == events + 4  # the four writes that were allowed


def test_start_twice_is_refused(account, ie, started):
    with pytest.raises(ValidationError, match="already started"):
        services.checklist_start(account=account, actor=ie)
    assert account.checklist_items.count() == 11


def test_start_without_an_active_template_is_refused(account, ie, template):
    ChecklistTemplateItem.objects.update(is_active=False)
    with pytest.raises(ValidationError, match="no active items"):
        services.checklist_start(account=account, actor=ie)
    assert not account.checklist_items.exists()


def test_done_records_who_and_when_and_open_clears_it(account, ie, manager, started):
    item = started[0]
    done = services.checklist_item_update(
        item=item,
        actor=ie,
        data={"status": "done", "evidence_url": "https://docs.example.com/infra"},
        expected_version=1,
    )
    assert (done.status, done.completed_by, done.version) == ("done", ie, 2)
    assert done.completed_at is not None
    event = AuditEvent.objects.get(object_type="closeout.checklistitem", object_id=str(item.pk))
    assert event.changes == [
        {"field": "status", "label": "Status", "before": "Open", "after": "Done"},
        {
            "field": "evidence_url",
            "label": "Evidence link",
            "before": None,
            "after": "https://docs.example.com/infra",
        },
    ]
    reopened = services.checklist_item_update(
        item=done, actor=manager, data={"status": "open"}, expected_version=2
    )
    assert (reopened.completed_by, reopened.completed_at) == (None, None)


def test_evidence_change_keeps_who_marked_it_done(account, ie, manager, started):
    item = services.checklist_item_update(
        item=started[0], actor=ie, data={"status": "done"}, expected_version=ANY_VERSION
    )
    item = services.checklist_item_update(
        item=item, actor=manager, data={"evidence_note": "Runbook v2"}, expected_version=ANY_VERSION
    )
    assert item.completed_by == ie


def test_not_applicable_needs_a_reason(account, ie, started):
    item = started[4]
    with pytest.raises(ValidationError) as error:
        services.checklist_item_update(
            item=item,
            actor=ie,
            data={"status": "not_applicable", "not_applicable_reason": "   "},
            expected_version=1,
        )
    assert "not_applicable_reason" in error.value.message_dict
    item.refresh_from_db()
    assert (item.status, item.version) == ("open", 1)
    assert not AuditEvent.objects.filter(object_type="closeout.checklistitem").exists()

    item = services.checklist_item_update(
        item=item,
        actor=ie,
        data={"status": "not_applicable", "not_applicable_reason": "No indexing in scope."},
        expected_version=1,
    )
    assert item.is_settled and item.completed_by == ie
    # Marked done later: the reason no longer applies and is cleared.
    item = services.checklist_item_update(
        item=item, actor=ie, data={"status": "done"}, expected_version=2
    )
    assert item.not_applicable_reason == ""


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,hi", "file:///etc/passwd"])
def test_evidence_links_are_http_only(account, ie, started, url):
    with pytest.raises(ValidationError) as error:
        services.checklist_item_update(
            item=started[0], actor=ie, data={"evidence_url": url}, expected_version=1
        )
    assert "evidence_url" in error.value.message_dict


def test_stale_checklist_item_version_is_refused(account, ie, manager, started):
    services.checklist_item_update(
        item=started[0], actor=manager, data={"evidence_note": "first"}, expected_version=1
    )
    with pytest.raises(ConcurrentEditError):
        services.checklist_item_update(
            item=started[0], actor=ie, data={"evidence_note": "second"}, expected_version=1
        )
    started[0].refresh_from_db()
    assert started[0].evidence_note == "first"


def test_checklist_item_update_without_a_version_is_refused(account, ie, started):
    item = started[0]
    with pytest.raises(MissingVersionError, match="sent without its version"):
        services.checklist_item_update(
            item=item, actor=ie, data={"status": "done"}, expected_version=None
        )
    item.refresh_from_db()
    assert (item.status, item.version) == ("open", 1)
    assert not AuditEvent.objects.filter(object_type="closeout.checklistitem").exists()


# --- Phases ------------------------------------------------------------------------------------
def test_request_handoff_moves_the_phase_and_emails_the_ta_and_manager(
    account, ie, ta, manager, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.PORTAL_BASE_URL = "https://handoff.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        services.handoff_request(account=account, actor=ie)
    account.refresh_from_db()
    assert account.phase == Phase.READY_FOR_HANDOFF
    event = AuditEvent.objects.get(account=account, action=AuditEvent.Kind.STATUS)
    assert event.message == "Requested handoff"
    assert event.changes == [
        {
            "field": "phase",
            "label": "Phase",
            "before": "Implementation",
            "after": "Handoff requested",
        }
    ]
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [ta.email, manager.email]
    assert mail.subject == "[Handoff] Acme Robotics: handoff requested"
    assert f"{ie} requested handoff of Acme Robotics" in mail.body
    assert f"https://handoff.example.com/accounts/{account.pk}/" in mail.body
    assert "&#x27;" not in mail.body and "&amp;" not in mail.body  # plain text, not HTML


def test_request_handoff_twice_is_refused(account, ie):
    services.handoff_request(account=account, actor=ie)
    with pytest.raises(ValidationError, match="only be requested while the account is in"):
        services.handoff_request(account=account, actor=ie)


def test_withdraw_goes_back_to_implementation(account, ie):
    services.handoff_request(account=account, actor=ie)
    services.handoff_withdraw(account=account, actor=ie, reason="Indexing still failing")
    account.refresh_from_db()
    assert account.phase == Phase.IMPLEMENTATION
    assert account.closeout.handoff_requested_at is None
    event = AuditEvent.objects.filter(account=account).first()
    assert event.message == "Withdrew the handoff request: Indexing still failing"


def test_acknowledge_once_by_the_assigned_ta(account, ta):
    services.handoff_acknowledge(account=account, actor=ta)
    services.handoff_acknowledge(account=account, actor=ta)  # again: nothing new
    events = AuditEvent.objects.filter(account=account, object_type="closeout.closeout")
    assert events.count() == 1
    assert events[0].changes[0] == {
        "field": "ta_acknowledged_by",
        "label": "Acknowledged by the technical advisor",
        "before": None,
        "after": str(ta),
    }


# --- Sign-off ------------------------------------------------------------------------------------
def test_sign_off_is_refused_while_blockers_remain(
    account, ie, ta, manager, template, mailoutbox, django_capture_on_commit_callbacks
):
    ready_account(account, ie=ie, ta=ta, leave_open=("Indexing",))
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for reason in ("", "   "):
            with pytest.raises(ValidationError) as error:
                services.closeout_sign_off(account=account, actor=manager, override_reason=reason)
            assert error.value.message_dict["override_reason"] == [
                "1 rule not met (1 blocker). Resolve it, or write why you sign off anyway."
            ]
    account.refresh_from_db()
    assert account.phase == Phase.READY_FOR_HANDOFF
    assert not SignOff.objects.exists()
    assert mailoutbox == []


def test_sign_off_with_an_override_records_who_when_why_and_the_blockers(
    account, ie, ta, manager, template, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.PORTAL_BASE_URL = "https://handoff.example.com"
    ready_account(account, ie=ie, ta=ta, leave_open=("Indexing",))
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sign_off = services.closeout_sign_off(
            account=account, actor=manager, override_reason="  Indexing finishes overnight.  "
        )
    account.refresh_from_db()
    assert account.phase == Phase.HANDED_OFF
    assert (sign_off.signed_by, sign_off.signed_by_name) == (manager, str(manager))
    assert sign_off.override_reason == "Indexing finishes overnight."
    assert sign_off.readiness_percent == 88  # 8 of 9 rules met
    assert sign_off.blockers == [
        {
            "rule": "checklist_complete",
            "title": "Checklist item open: Indexing",
            "detail": "Mark it done, or not applicable with a reason.",
            "url": reverse("accounts:detail", args=[account.pk]) + "#checklist-item-5",
        }
    ]
    event = AuditEvent.objects.filter(account=account, action=AuditEvent.Kind.STATUS).first()
    assert event.message == (
        "Signed off the closeout, overriding 1 blocker: Indexing finishes overnight."
    )
    assert event.change_for("phase") == {
        "field": "phase",
        "label": "Phase",
        "before": "Handoff requested",
        "after": "Handed off",
    }
    [mail] = mailoutbox
    assert mail.to == [ie.email, ta.email]
    assert mail.subject == "[Handoff] Acme Robotics was signed off and handed off"
    assert f"{manager} signed off the closeout of Acme Robotics" in mail.body
    assert (
        "Signed off with 1 blocker overridden. Reason:\nIndexing finishes overnight." in mail.body
    )
    assert (
        f"https://handoff.example.com/accounts/{account.pk}/sign-offs/{sign_off.pk}/" in mail.body
    )


def test_clean_sign_off_keeps_no_override_reason(account, ie, ta, manager, template):
    ready_account(account, ie=ie, ta=ta)
    sign_off = services.closeout_sign_off(
        account=account, actor=manager, override_reason="not needed"
    )
    assert (sign_off.readiness_percent, sign_off.blockers, sign_off.override_reason) == (
        100,
        [],
        "",
    )


def test_sign_off_needs_ready_for_handoff(account, manager, template):
    with pytest.raises(ValidationError, match="handoff is requested"):
        services.closeout_sign_off(account=account, actor=manager, override_reason="x")


def test_snapshot_is_frozen_whatever_happens_to_the_record_later(
    account, ie, ta, manager, template
):
    ready_account(account, ie=ie, ta=ta, leave_open=("Indexing",))
    # One row in each log, so the snapshot holds them too.
    journal_entry_create(
        account=account, author=ie, title="Rockskip enabled", body="For `acme/firmware`."
    )
    issue = issue_create(account=account, actor=ie, title="Slow sync", owner=ie, severity="high")
    risk = risk_create(
        account=account,
        actor=ie,
        title="Disk fills up",
        description="Because the monorepo grows, gitserver's disk may fill.",
        likelihood=3,
        impact=4,
        owner=ie,
        response_plan="Alert at 70%.",
    )
    opportunity = opportunity_create(account=account, actor=ie, title="Firmware team", owner=ta)
    opportunity_stage_change(opportunity=opportunity, actor=ta, stage="transitioned")
    sign_off = services.closeout_sign_off(
        account=account, actor=manager, override_reason="Indexing runs tonight"
    )
    frozen = copy.deepcopy(SignOff.objects.get(pk=sign_off.pk).snapshot)
    sections = {key: section["data"] for key, section in frozen["sections"].items()}
    assert sections["account"]["name"] == "Acme Robotics"
    assert sections["account"]["phase"] == "Handoff requested"
    assert sections["people"]["technical_advisor"]["name"] == str(ta)
    indexing = next(i for i in sections["checklist"]["items"] if i["position"] == 5)
    assert indexing["status"] == "Open"
    assert frozen["readiness"]["percent"] == 88
    assert sections["production_deployment"]["total_cpu"] == 48
    assert sections["production_deployment"]["deployment_type"] == "Kubernetes with Helm"
    assert sections["production_deployment"]["machine_instance_types"] == [
        {"count": 3, "instance_type": "m6a.4xlarge"}
    ]
    assert sections["other_environments"] == []
    assert sections["code_hosts"]["totals"]["number_of_repositories"] == 420
    assert sections["sizing_check"]["recommended_tier"]["name"] == "S"  # 900 users
    assert [n["title"] for n in sections["implementation_notes"]] == ["Rockskip enabled"]
    assert [(i["reference"], i["status"]) for i in sections["issues_log"]] == [("I-1", "Open")]
    assert [(r["reference"], r["band"], r["response_plan"]) for r in sections["risk_log"]] == [
        ("R-1", "High", "Alert at 70%.")
    ]
    assert [o["stage"] for o in sections["expansion_opportunities"]] == ["Transitioned to TA"]

    # Everything changes afterwards: reopened, renamed, the item settled, another TA, the
    # deployment resized, a code host added, every log moved on.
    services.closeout_reopen(account=account, actor=manager, reason="Customer added a code host")
    account_update(
        account=account,
        actor=ie,
        data={"name": "Acme Robotics International", "technical_advisor": None},
        expected_version=ANY_VERSION,
    )
    settle(account, ie)
    environment_update(
        environment=Environment.objects.get(account=account),
        actor=ie,
        data={"total_cpu": 96, "deployment_type": "docker_compose"},
        expected_version=ANY_VERSION,
        instance_types=[InstanceSpec(6, "m6a.4xlarge")],
    )
    code_host_create(
        account=account,
        actor=ie,
        data={"kind": "gitlab_com", "repository_count": 80, "monorepo_count": 0},
    )
    journal_entry_create(account=account, author=ie, title="Later note", body="After sign-off.")
    issue_status_change(issue=issue, actor=ie, status="resolved", resolution="Raised the limit.")
    risk_update(
        risk=risk, actor=ie, data={"response_plan": "Add a shard."}, expected_version=ANY_VERSION
    )
    opportunity_stage_change(opportunity=opportunity, actor=ta, stage="won")

    stored = SignOff.objects.get(pk=sign_off.pk)
    assert stored.snapshot == frozen
    assert snapshot_digest(stored.snapshot) == stored.snapshot_sha256 == sign_off.snapshot_sha256
    assert stored.reopen_reason == "Customer added a code host"  # the one later write

    # The model refuses any other change to a sign-off.
    stored.snapshot["sections"]["account"]["data"]["name"] = "Tampered"
    with pytest.raises(ValueError, match="immutable"):
        stored.save()
    with pytest.raises(ValueError, match="immutable"):
        stored.save(update_fields=["snapshot"])
    assert SignOff.objects.get(pk=sign_off.pk).snapshot == frozen


def test_sign_off_page_shows_the_frozen_record_not_the_current_one(
    client_for, account, ie, ta, manager, template
):
    ready_account(account, ie=ie, ta=ta)
    sign_off = services.closeout_sign_off(account=account, actor=manager)
    services.closeout_reopen(account=account, actor=manager, reason="Scope grew")
    account_update(
        account=account, actor=ie, data={"name": "Renamed Later"}, expected_version=ANY_VERSION
    )
    page = client_for(ta).get(sign_off.get_absolute_url()).content.decode()
    assert "<td>Acme Robotics</td>" in page
    assert "Renamed Later" not in page.split('class="snapshot-body"')[1]
    assert "Intact" in page
    assert "Scope grew" in page


# --- Reopening ---------------------------------------------------------------------------------
@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reopen_requires_a_reason(account, ie, ta, manager, template, reason):
    ready_account(account, ie=ie, ta=ta)
    services.closeout_sign_off(account=account, actor=manager)
    with pytest.raises(ValidationError) as error:
        services.closeout_reopen(account=account, actor=manager, reason=reason)
    assert error.value.message_dict == {"reason": ["Write why the account is reopened."]}
    account.refresh_from_db()
    assert account.phase == Phase.HANDED_OFF
    assert SignOff.objects.get().reopened_at is None


def test_reopen_view_shows_the_error_next_to_the_field(
    client_for, account, ie, ta, manager, template
):
    ready_account(account, ie=ie, ta=ta)
    services.closeout_sign_off(account=account, actor=manager)
    response = client_for(manager).post(
        reverse("closeout:reopen", args=[account.pk]), {"reason": "  "}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_reason_error">Write why the account is reopened.</p>' in page
    account.refresh_from_db()
    assert account.phase == Phase.HANDED_OFF


def test_reopen_records_the_reason_and_emails_the_ie_and_ta(
    account, ie, ta, manager, template, mailoutbox, django_capture_on_commit_callbacks
):
    ready_account(account, ie=ie, ta=ta)
    services.closeout_sign_off(account=account, actor=manager)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.closeout_reopen(
            account=account, actor=manager, reason="Customer added GitLab to the scope."
        )
    account.refresh_from_db()
    assert account.phase == Phase.IMPLEMENTATION
    sign_off = SignOff.objects.get()
    assert (sign_off.reopened_by, sign_off.reopen_reason) == (
        manager,
        "Customer added GitLab to the scope.",
    )
    event = AuditEvent.objects.filter(account=account).first()
    assert event.message == "Reopened: Customer added GitLab to the scope."
    assert event.change_for("phase")["after"] == "Implementation"
    [mail] = mailoutbox
    assert mail.to == [ie.email, ta.email]
    assert mail.subject == "[Handoff] Acme Robotics was reopened"
    assert "Reason:\nCustomer added GitLab to the scope." in mail.body
    # Back in implementation, the IE edits again and may request handoff anew.
    services.handoff_request(account=account, actor=ie)


def test_emails_skip_people_without_an_address(
    account, ie, ta, manager, mailoutbox, django_capture_on_commit_callbacks
):
    type(ta).objects.filter(pk=ta.pk).update(email="")
    with django_capture_on_commit_callbacks(execute=True):
        services.handoff_request(account=account, actor=ie)
    assert mailoutbox[0].to == [manager.email]


def test_a_snapshot_part_must_return_json_safe_data(
    account, ie, ta, manager, template, monkeypatch
):
    import dataclasses
    import datetime

    from handoff import registry
    from handoff.registry import Part

    ready_account(account, ie=ie, ta=ta)
    broken = Part("broken", "Broken", lambda record: {"when": datetime.date(2027, 1, 1)}, str)
    closeout = dataclasses.replace(registry._contributions["closeout"], snapshot=(broken,))
    monkeypatch.setitem(registry._contributions, "closeout", closeout)
    with pytest.raises(TypeError, match="Snapshot section 'broken' is not JSON-safe"):
        services.closeout_sign_off(account=account, actor=manager)
    account.refresh_from_db()
    assert account.phase == Phase.READY_FOR_HANDOFF
    assert not SignOff.objects.exists()
