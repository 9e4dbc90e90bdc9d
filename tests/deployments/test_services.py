import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from deployments.models import CodeHostConnection, DesignDocument, Environment, InstanceTypeRow
from deployments.services import (
    CodeHostChange,
    CodeHostConflictError,
    DocumentLink,
    InstanceSpec,
    code_host_delete,
    code_host_list_save,
    code_host_update,
    environment_create,
    environment_delete,
    environment_update,
)
from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from handoff.common.services import ANY_VERSION, ConcurrentEditError, MissingVersionError
from tests.deployments.conftest import PRODUCTION_DATA

pytestmark = pytest.mark.django_db


def change_version(account) -> int:
    return Account.objects.get(pk=account.pk).change_version


def test_environment_create_records_history_with_rows_and_bumps_the_account(account, ie):
    before = change_version(account)
    environment = environment_create(
        account=account,
        actor=ie,
        kind=Environment.Kind.PRODUCTION,
        data={**PRODUCTION_DATA, "deployment_type_other": "  "},
        design_documents=[
            DocumentLink("Technical design", "https://docs.example.com/tdd"),
            DocumentLink("Runbook", "https://docs.example.com/runbook"),
        ],
        instance_types=[InstanceSpec(3, "m6a.4xlarge"), InstanceSpec(1, " m6a.2xlarge ")],
    )
    assert change_version(account) == before + 1
    event = AuditEvent.objects.get(object_type="deployments.environment")
    assert event.action == AuditEvent.Kind.CREATE
    assert event.actor == ie
    assert event.change_for("total_cpu") == {
        "field": "total_cpu",
        "label": "Total CPU",
        "before": None,
        "after": 48,
    }
    assert event.change_for("deployment_type")["after"] == "Kubernetes with Helm"
    assert event.change_for("rockskip_enabled") is None  # switches left off are not noise
    assert event.change_for("design_documents")["after"] == (
        "Technical design <https://docs.example.com/tdd>; Runbook <https://docs.example.com/runbook>"
    )
    assert event.change_for("instance_types") == {
        "field": "instance_types",
        "label": "Machine Instance Types",
        "before": None,
        "after": "3 × m6a.4xlarge, 1 × m6a.2xlarge",
    }
    assert [d.title for d in environment.design_documents.all()] == ["Technical design", "Runbook"]


def test_one_production_environment_per_account_service_rule(account, ie, production):
    with pytest.raises(ValidationError, match="already has a production environment"):
        environment_create(
            account=account, actor=ie, kind=Environment.Kind.PRODUCTION, data=dict(PRODUCTION_DATA)
        )
    assert Environment.objects.filter(account=account).count() == 1


def test_one_production_environment_per_account_database_constraint(account, production):
    with pytest.raises(IntegrityError), transaction.atomic():
        Environment.objects.create(account=account, kind=Environment.Kind.PRODUCTION)


def test_completion_before_start_is_refused_by_the_database_too(account):
    with pytest.raises(IntegrityError), transaction.atomic():
        Environment.objects.create(
            account=account,
            kind=Environment.Kind.STAGING,
            infra_start_date=datetime.date(2026, 3, 1),
            infra_completion_date=datetime.date(2026, 2, 1),
        )


def test_other_environments_need_fewer_fields(account, ie, production):
    staging = environment_create(account=account, actor=ie, kind=Environment.Kind.STAGING, data={})
    assert staging.deployment_type == ""
    with pytest.raises(ValidationError) as error:
        environment_create(account=account, actor=ie, kind=Environment.Kind.OTHER, data={})
    assert "name" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        environment_create(account=account, actor=ie, kind=Environment.Kind.PRODUCTION, data={})
    assert error.value.message_dict["deployment_type"] == ["The production environment needs this."]


def test_update_records_only_changed_fields_and_replaced_rows(production, ie, account):
    before = change_version(account)
    environment_update(
        environment=production,
        actor=ie,
        data={**PRODUCTION_DATA, "total_cpu": 64},
        expected_version=1,
        design_documents=[DocumentLink("Technical design", "https://docs.example.com/tdd")],
        instance_types=[InstanceSpec(4, "m6a.4xlarge")],
    )
    production.refresh_from_db()
    assert production.version == 2
    assert change_version(account) == before + 1
    event = AuditEvent.objects.filter(action=AuditEvent.Kind.UPDATE).get()
    assert event.changes == [
        {"field": "total_cpu", "label": "Total CPU", "before": 48, "after": 64},
        {
            "field": "instance_types",
            "label": "Machine Instance Types",
            "before": "3 × m6a.4xlarge",
            "after": "4 × m6a.4xlarge",
        },
    ]


def test_changing_only_rows_still_moves_the_version(production, ie):
    environment_update(
        environment=production,
        actor=ie,
        data={},
        expected_version=1,
        design_documents=[],
    )
    production.refresh_from_db()
    assert production.version == 2
    assert not DesignDocument.objects.exists()
    with pytest.raises(ConcurrentEditError):
        environment_update(
            environment=production, actor=ie, data={"total_cpu": 8}, expected_version=1
        )


def test_update_without_changes_writes_nothing(production, ie, account):
    before = change_version(account)
    environment_update(
        environment=production,
        actor=ie,
        data=dict(PRODUCTION_DATA),
        expected_version=1,
        design_documents=[DocumentLink("Technical design", "https://docs.example.com/tdd")],
        instance_types=[InstanceSpec(3, "m6a.4xlarge")],
    )
    production.refresh_from_db()
    assert production.version == 1
    assert change_version(account) == before
    assert not AuditEvent.objects.filter(action=AuditEvent.Kind.UPDATE).exists()


def test_stale_version_is_refused_and_nothing_is_overwritten(production, ie, manager):
    environment_update(
        environment=production, actor=manager, data={"total_cpu": 96}, expected_version=1
    )
    with pytest.raises(ConcurrentEditError) as error:
        environment_update(
            environment=production,
            actor=ie,
            data={"total_cpu": 12},
            expected_version=1,
            instance_types=[InstanceSpec(1, "m6a.large")],
        )
    assert error.value.instance.total_cpu == 96
    production.refresh_from_db()
    assert production.total_cpu == 96
    assert list(InstanceTypeRow.objects.values_list("count", "instance_type")) == [
        (3, "m6a.4xlarge")
    ]


def test_a_bad_row_rolls_back_the_whole_update(production, ie):
    with pytest.raises(ValidationError) as error:
        environment_update(
            environment=production,
            actor=ie,
            data={"total_cpu": 64},
            expected_version=1,
            design_documents=[DocumentLink("Evil", "javascript:alert(1)")],
        )
    assert "design_documents" in error.value.message_dict
    production.refresh_from_db()
    assert (production.total_cpu, production.version) == (48, 1)
    assert DesignDocument.objects.get().url == "https://docs.example.com/tdd"


def test_production_stays_production(production, ie):
    with pytest.raises(ValidationError):
        environment_update(
            environment=production, actor=ie, data={"kind": "staging"}, expected_version=1
        )


def test_environment_delete_keeps_history_and_refuses_production(account, ie, production):
    staging = environment_create(
        account=account,
        actor=ie,
        kind=Environment.Kind.STAGING,
        data={"total_cpu": 8},
        instance_types=[InstanceSpec(1, "m6a.2xlarge")],
    )
    environment_delete(environment=staging, actor=ie, expected_version=staging.version)
    event = AuditEvent.objects.get(action=AuditEvent.Kind.DELETE)
    assert event.change_for("total_cpu") == {
        "field": "total_cpu",
        "label": "Total CPU",
        "before": 8,
        "after": None,
    }
    assert event.change_for("instance_types")["before"] == "1 × m6a.2xlarge"
    assert not Environment.objects.filter(pk=staging.pk).exists()
    with pytest.raises(ValidationError):
        environment_delete(environment=production, actor=ie, expected_version=production.version)


# --- Code hosts ----------------------------------------------------------------------------------


def row(code_host, delete=False, **changes):
    data = {
        "kind": code_host.kind,
        "display_name": code_host.display_name,
        "url": code_host.url,
        "repository_count": code_host.repository_count,
        "monorepo_count": code_host.monorepo_count,
        "largest_repository_mb": code_host.largest_repository_mb,
        **changes,
    }
    return CodeHostChange(id=code_host.pk, version=code_host.version, delete=delete, data=data)


def test_code_host_list_save_creates_updates_and_deletes_in_one_change(account, ie, make_code_host):
    keep = make_code_host(repositories=10)
    gone = make_code_host(kind=CodeHostConnection.Kind.GERRIT, repositories=5)
    before = change_version(account)
    changed = code_host_list_save(
        account=account,
        actor=ie,
        rows=[
            row(keep, repository_count=12),
            row(gone, delete=True),
            CodeHostChange(data={"kind": "perforce", "repository_count": 3, "monorepo_count": 1}),
            CodeHostChange(data={}, delete=True),  # a new row removed before saving
        ],
    )
    assert changed == 3
    assert change_version(account) == before + 1
    assert sorted(CodeHostConnection.objects.values_list("kind", "repository_count")) == [
        ("github_com", 12),
        ("perforce", 3),
    ]
    actions = list(
        AuditEvent.objects.filter(object_type="deployments.codehostconnection")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "create", "update", "delete", "create"]


def test_code_host_stale_row_refuses_the_whole_save(account, ie, manager, make_code_host):
    first = make_code_host(repositories=10)
    second = make_code_host(repositories=20)
    code_host_list_save(account=account, actor=manager, rows=[row(first, repository_count=11)])
    with pytest.raises(CodeHostConflictError) as error:
        code_host_list_save(
            account=account,
            actor=ie,
            rows=[row(first, repository_count=99), row(second, repository_count=21)],
        )
    assert [c.repository_count for c in error.value.current] == [11]
    assert "Nothing was saved" in error.value.messages[0]
    assert sorted(CodeHostConnection.objects.values_list("repository_count", flat=True)) == [11, 20]


def test_code_host_of_another_account_is_never_touched(account, ie, make_code_host):
    other_account = Account.objects.create(name="Other")
    foreign = make_code_host(target=other_account, repositories=7)
    with pytest.raises(CodeHostConflictError) as error:
        code_host_list_save(account=account, actor=ie, rows=[row(foreign, delete=True)])
    assert error.value.gone_ids == [foreign.pk]
    foreign.refresh_from_db()
    assert foreign.repository_count == 7


def test_more_monorepos_than_repositories_is_refused(account, ie):
    with pytest.raises(ValidationError) as error:
        code_host_list_save(
            account=account,
            actor=ie,
            rows=[
                CodeHostChange(data={"kind": "gerrit", "repository_count": 1, "monorepo_count": 2})
            ],
        )
    assert "monorepo_count" in error.value.message_dict
    assert not CodeHostConnection.objects.exists()


# --- Versions are required -------------------------------------------------------------------


def deployment_state(account):
    return (
        list(Environment.objects.values()),
        list(CodeHostConnection.objects.values()),
        AuditEvent.objects.count(),
        change_version(account),
    )


@pytest.mark.parametrize(
    "edit",
    [
        lambda env, host, ie: environment_update(
            environment=env, actor=ie, data={"total_cpu": 4}, expected_version=None
        ),
        lambda env, host, ie: environment_delete(environment=env, actor=ie, expected_version=None),
        lambda env, host, ie: code_host_update(
            code_host=host, actor=ie, data={"repository_count": 4}, expected_version=None
        ),
        lambda env, host, ie: code_host_delete(code_host=host, actor=ie, expected_version=None),
        lambda env, host, ie: code_host_list_save(
            account=host.account,
            actor=ie,
            rows=[CodeHostChange(id=host.pk, version=None, data={"repository_count": 4})],
        ),
    ],
    ids=[
        "environment_update",
        "environment_delete",
        "code_host_update",
        "code_host_delete",
        "code_host_list_save",
    ],
)
def test_an_edit_without_its_version_is_refused_and_writes_nothing(
    account, ie, make_code_host, edit
):
    staging = environment_create(account=account, actor=ie, kind="staging", data={"total_cpu": 8})
    host = make_code_host(repositories=10)
    before = deployment_state(account)
    with pytest.raises(MissingVersionError, match="sent without its version"):
        edit(staging, host, ie)
    assert deployment_state(account) == before


def test_any_version_overwrites_on_purpose(account, ie, manager, make_code_host):
    staging = environment_create(account=account, actor=ie, kind="staging", data={"total_cpu": 8})
    host = make_code_host(repositories=10)
    environment_update(
        environment=staging, actor=manager, data={"total_cpu": 16}, expected_version=1
    )
    code_host_list_save(account=account, actor=manager, rows=[row(host, repository_count=11)])
    environment_update(
        environment=staging, actor=ie, data={"total_cpu": 32}, expected_version=ANY_VERSION
    )
    code_host_list_save(
        account=account,
        actor=ie,
        rows=[CodeHostChange(id=host.pk, version=ANY_VERSION, data={"repository_count": 12})],
    )
    assert Environment.objects.get(pk=staging.pk).total_cpu == 32
    assert CodeHostConnection.objects.get(pk=host.pk).repository_count == 12
