"""Reads of the deployment record. Every function here costs a constant number of queries,
whatever the number of environments, rows or code hosts.

`DeploymentSummary` (`deployment_summary(overview)`) is what the deployment contribution gives
the Vitally payload: the handbook's production deployment and code host fields of one account."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch

from deployments.instance_types import InstanceCheck, instance_check
from deployments.models import CodeHostConnection, DesignDocument, Environment, InstanceTypeRow
from deployments.services import instance_types_text
from deployments.sizing import SizingInput, SizingResult, sizing_check


@dataclass(frozen=True)
class DeploymentSummary:  # the production environment + code host totals of one account
    technical_design_document_urls: list[str]  # in display order
    prod_infra_start_date: datetime.date | None
    prod_infra_completion_date: datetime.date | None
    sourcegraph_instance_url: str  # "" when empty
    deployment_type: str  # the label, e.g. "Kubernetes with Helm"; "" when empty
    infrastructure_hosting_provider: str  # the label, e.g. "AWS"; "" when empty
    machine_instance_types: str  # e.g. "3 × m6a.4xlarge, 1 × m6a.2xlarge"; "" when none
    total_cpu: int | None
    total_memory_gb: int | None
    total_disk_space_gb: int | None
    code_hosts_in_use: list[str]  # distinct kind labels, sorted
    number_of_repositories: int | None  # None when no code host recorded
    number_of_monorepos: int | None
    largest_repository_mb: int | None


@dataclass(frozen=True)
class CodeHostTotals:
    """The handbook's code host details, derived from the connections."""

    code_hosts_in_use: list[str]  # distinct kind labels, sorted
    number_of_repositories: int | None  # sum; None when no code host recorded
    number_of_monorepos: int | None  # sum; None when no code host recorded
    largest_repository_mb: int | None  # maximum of the recorded sizes; None when none recorded
    connections: int
    sizes_recorded: int  # how many connections have a largest repository size


def code_host_totals(code_hosts: list[CodeHostConnection]) -> CodeHostTotals:
    sizes = [c.largest_repository_mb for c in code_hosts if c.largest_repository_mb is not None]
    recorded = bool(code_hosts)
    return CodeHostTotals(
        code_hosts_in_use=sorted({c.get_kind_display() for c in code_hosts}, key=str.casefold),
        number_of_repositories=sum(c.repository_count for c in code_hosts) if recorded else None,
        number_of_monorepos=sum(c.monorepo_count for c in code_hosts) if recorded else None,
        largest_repository_mb=max(sizes) if sizes else None,
        connections=len(code_hosts),
        sizes_recorded=len(sizes),
    )


def _environments_with_rows():
    return Environment.objects.prefetch_related(
        Prefetch("design_documents", queryset=DesignDocument.objects.order_by("position", "pk")),
        Prefetch("instance_types", queryset=InstanceTypeRow.objects.order_by("position", "pk")),
    )


def _kind_order(environment: Environment) -> tuple:
    kinds = list(Environment.Kind.values)
    return (kinds.index(environment.kind), environment.name.casefold(), environment.pk)


def code_host_list(*, account_id: int) -> list[CodeHostConnection]:
    return list(CodeHostConnection.objects.filter(account_id=account_id).order_by("position", "pk"))


def environment_production_get(*, account_id: int) -> Environment | None:
    return (
        _environments_with_rows()
        .filter(account_id=account_id, kind=Environment.Kind.PRODUCTION)
        .first()
    )


def environment_get(*, account_id: int, environment_id: int) -> Environment:
    """Scoped to the account in the URL: another account's environment is DoesNotExist."""
    return _environments_with_rows().get(account_id=account_id, pk=environment_id)


def sizing_input(*, production: Environment | None, totals: CodeHostTotals) -> SizingInput:
    """What the sizing check compares: the production environment, its discussed limits and
    the code hosts' totals."""
    p = production
    managed = p is not None and (
        p.deployment_type == Environment.DeploymentType.SOURCEGRAPH_CLOUD
        or p.hosting_provider == Environment.HostingProvider.SOURCEGRAPH_CLOUD
    )
    return SizingInput(
        users=p.max_users if p else None,
        concurrent_users=p.max_concurrent_users if p else None,
        repositories_discussed=p.max_repositories if p else None,
        repositories_recorded=totals.number_of_repositories,
        largest_repository_mb=totals.largest_repository_mb,
        monorepos=totals.number_of_monorepos,
        total_cpu=p.total_cpu if p else None,
        total_memory_gb=p.total_memory_gb if p else None,
        rockskip_enabled=p.rockskip_enabled if p else False,
        managed_by_sourcegraph=managed,
    )


def environment_instance_check(environment: Environment) -> InstanceCheck:
    """Uses the prefetched rows: no query."""
    return instance_check(
        provider=environment.hosting_provider,
        rows=[(r.count, r.instance_type) for r in environment.instance_types.all()],
        total_cpu=environment.total_cpu,
        total_memory_gb=environment.total_memory_gb,
    )


@dataclass(frozen=True)
class DeploymentOverview:
    """Everything the account page's deployment sections show, read once."""

    production: Environment | None
    others: list[Environment]
    code_hosts: list[CodeHostConnection]
    totals: CodeHostTotals
    instance_check: InstanceCheck | None  # of the production environment
    sizing: SizingResult


def deployment_overview_get(*, account_id: int) -> DeploymentOverview:
    """The account's deployment record, the deployment's slice of the account's record
    (handoff/record.py). Four queries (environments, their documents, their instance rows, code
    hosts), however many there are."""
    return _overview_build(
        list(_environments_with_rows().filter(account_id=account_id)),
        code_host_list(account_id=account_id),
    )


def deployment_overviews_list(*, account_ids: list[int]) -> dict[int, DeploymentOverview]:
    """The deployment slice of many accounts (handoff.record.account_records_list): the same
    four queries, whatever the number of accounts."""
    environments: dict[int, list[Environment]] = defaultdict(list)
    for environment in _environments_with_rows().filter(account_id__in=account_ids):
        environments[environment.account_id].append(environment)
    code_hosts: dict[int, list[CodeHostConnection]] = defaultdict(list)
    for code_host in CodeHostConnection.objects.filter(account_id__in=account_ids).order_by(
        "position", "pk"
    ):
        code_hosts[code_host.account_id].append(code_host)
    return {pk: _overview_build(environments[pk], code_hosts[pk]) for pk in account_ids}


def _overview_build(
    environments: list[Environment], code_hosts: list[CodeHostConnection]
) -> DeploymentOverview:
    environments = sorted(environments, key=_kind_order)
    production = next((e for e in environments if e.is_production), None)
    totals = code_host_totals(code_hosts)
    return DeploymentOverview(
        production=production,
        others=[e for e in environments if not e.is_production],
        code_hosts=code_hosts,
        totals=totals,
        instance_check=environment_instance_check(production) if production else None,
        sizing=sizing_check(sizing_input(production=production, totals=totals)),
    )


def deployment_summary(overview: DeploymentOverview) -> DeploymentSummary:
    return _summary(overview.production, overview.totals)


def _summary(production: Environment | None, totals: CodeHostTotals) -> DeploymentSummary:
    p = production
    return DeploymentSummary(
        technical_design_document_urls=[d.url for d in p.design_documents.all()] if p else [],
        prod_infra_start_date=p.infra_start_date if p else None,
        prod_infra_completion_date=p.infra_completion_date if p else None,
        sourcegraph_instance_url=p.sourcegraph_instance_url if p else "",
        deployment_type=p.deployment_type_label if p else "",
        infrastructure_hosting_provider=p.hosting_provider_label if p else "",
        machine_instance_types=instance_types_text(p.instance_types.all()) if p else "",
        total_cpu=p.total_cpu if p else None,
        total_memory_gb=p.total_memory_gb if p else None,
        total_disk_space_gb=p.total_disk_space_gb if p else None,
        code_hosts_in_use=totals.code_hosts_in_use,
        number_of_repositories=totals.number_of_repositories,
        number_of_monorepos=totals.number_of_monorepos,
        largest_repository_mb=totals.largest_repository_mb,
    )


def deployment_of(record) -> DeploymentOverview:
    """The deployment's slice of an account's record (handoff/record.py)."""
    return record.slices["deployments"]
