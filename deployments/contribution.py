"""What the deployment record adds to an account's record (handoff/registry.py): its slice (the
`DeploymentOverview`), four sections of the account page, two readiness rules, the sizing
warnings in the attention strip, and four snapshot parts (deployments/snapshot.py).

Every function here reads the record's slice: no query of its own, whatever its size."""

from django.core.exceptions import ValidationError
from django.urls import reverse

from deployments import snapshot
from deployments.models import Environment
from deployments.selectors import (
    deployment_of,
    deployment_overview_get,
    deployment_overviews_list,
    deployment_summary,
)
from deployments.services import INSTANCE_TYPES_LABEL
from deployments.sizing import TIERS
from handoff.permissions import Action, can
from handoff.registry import (
    AttentionItem,
    Blocker,
    Contribution,
    Part,
    Rule,
    Section,
    Trait,
    counted,
)

# The handbook's production fields a handoff needs, in the form's order. Design documents are
# "Link to ANY Technical Design Documents": none is a valid answer, so they are not required.
REQUIRED_FIELDS = [
    "sourcegraph_instance_url",
    "deployment_type",
    "hosting_provider",
    "infra_start_date",
    "infra_completion_date",
    "instance_types",
    "total_cpu",
    "total_memory_gb",
    "total_disk_space_gb",
]
# Sourcegraph runs Sourcegraph Cloud instances: the customer has no machines, CPU, memory or
# disk to record (the sizing check does not check them either).
NOT_FOR_CLOUD = {"instance_types", "total_cpu", "total_memory_gb", "total_disk_space_gb"}
# Fields whose validation messages link to a spot of the form other than `#id_<name>`.
_ANCHORS = {"instance_types": "machine-instances", "design_documents": "design-documents"}


def _label(name: str) -> str:
    if name == "instance_types":
        return INSTANCE_TYPES_LABEL
    if name == "design_documents":
        return "Link to any Technical Design Documents"
    label = str(Environment._meta.get_field(name).verbose_name)
    return label[:1].upper() + label[1:]


def _production_url(account, field: str = "") -> str:
    url = reverse("deployments:production_edit", args=[account.pk])
    if not field:
        return url
    return f"{url}#{_ANCHORS.get(field, f'id_{field}')}"


def _code_hosts_url(account) -> str:
    return reverse("deployments:code_hosts_edit", args=[account.pk])


# A viewer who may not edit the record reads what a blocker names in the account page's section.
def _in_production(account) -> dict:
    view_url = _handoff_url(account, "production-deployment")
    return {"action": Action.RECORD_EDIT, "view_url": view_url}


def _in_code_hosts(account) -> dict:
    return {"action": Action.RECORD_EDIT, "view_url": _handoff_url(account, "code-hosts")}


def _handoff_url(account, fragment: str) -> str:
    return reverse("accounts:detail", args=[account.pk]) + f"#{fragment}"


def _is_cloud(environment: Environment) -> bool:
    return (
        environment.deployment_type == Environment.DeploymentType.SOURCEGRAPH_CLOUD
        or environment.hosting_provider == Environment.HostingProvider.SOURCEGRAPH_CLOUD
    )


def _validation_errors(row, *, exclude: list[str]) -> dict[str, list[str]]:
    """The model's own validation, without the checks that query (foreign keys, unique and
    database constraints): field by field, then the cross-field rules of clean()."""
    errors: dict[str, list[str]] = {}
    for check in (lambda: row.clean_fields(exclude=exclude), row.clean):
        try:
            check()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(name, []).extend(messages)
    return errors


# --- Readiness rules -----------------------------------------------------------------------------
def rule_production_fields(record) -> list[Blocker]:
    """A production environment with every required handbook field, each one valid."""
    account, production = record.account, deployment_of(record).production
    if production is None:
        return [
            Blocker(
                title="No production deployment recorded",
                detail="Record the production deployment with the handbook's fields.",
                url=_production_url(account),
                **_in_production(account),
            )
        ]
    blockers = []
    missing = set()
    cloud = _is_cloud(production)
    instance_rows = list(production.instance_types.all())
    for name in REQUIRED_FIELDS:
        if cloud and name in NOT_FOR_CLOUD:
            continue
        value = instance_rows if name == "instance_types" else getattr(production, name)
        if value in (None, "", []):
            missing.add(name)
            blockers.append(
                Blocker(
                    title=f"Production field missing: {_label(name)}",
                    detail="Fill it in on the production deployment.",
                    url=_production_url(account, name),
                    **_in_production(account),
                )
            )
    errors = _validation_errors(production, exclude=["account"])
    for row, field in [
        *((d, "design_documents") for d in production.design_documents.all()),
        *((r, "instance_types") for r in instance_rows),
    ]:
        for messages in _validation_errors(row, exclude=["environment"]).values():
            errors.setdefault(field, []).extend(messages)
    for name, messages in errors.items():
        if name in missing:  # already named above ("The production environment needs this")
            continue
        known = name in _ANCHORS or name in {f.name for f in Environment._meta.fields}
        blockers.append(
            Blocker(
                title=f"Production field invalid: {_label(name) if known else 'the deployment'}",
                detail=" ".join(dict.fromkeys(messages)),
                url=_production_url(account, name if known else ""),
                **_in_production(account),
            )
        )
    return blockers


def rule_code_host_details(record) -> list[Blocker]:
    """At least one code host, repositories counted, the largest repository's size recorded
    (the handbook's four code host details), every connection valid."""
    overview = deployment_of(record)
    url = _code_hosts_url(record.account)
    if not overview.code_hosts:
        return [
            Blocker(
                title="No code host recorded",
                detail="Record each code host connection with its number of repositories.",
                url=url,
                **_in_code_hosts(record.account),
            )
        ]
    blockers = []
    if not overview.totals.number_of_repositories:
        blockers.append(
            Blocker(
                title="No repositories counted on the code hosts",
                detail="Enter the number of repositories each code host syncs.",
                url=url,
                **_in_code_hosts(record.account),
            )
        )
    if overview.totals.largest_repository_mb is None:
        blockers.append(
            Blocker(
                title="Largest Repository (MB) not recorded",
                detail="Enter the size of the largest repository on its code host.",
                url=url,
                **_in_code_hosts(record.account),
            )
        )
    for code_host in overview.code_hosts:
        errors = _validation_errors(code_host, exclude=["account"])
        if errors:
            blockers.append(
                Blocker(
                    title=f"Code host invalid: {code_host.name}",
                    detail=" ".join(m for messages in errors.values() for m in messages),
                    url=url,
                    **_in_code_hosts(record.account),
                )
            )
    return blockers


# --- Attention -----------------------------------------------------------------------------------
def attention_sizing(record) -> list[AttentionItem]:
    """The sizing check's warnings (deployments/sizing.py) as one item: one cause, the
    deployment's size, told once; the first warning leads, the rest and the sources follow."""
    account, warnings = record.account, deployment_of(record).sizing.warnings
    if not warnings:
        return []
    first, *others = warnings
    sources = list(dict.fromkeys(warning.source for warning in warnings))
    also = " ".join(warning.message for warning in others)
    return [
        AttentionItem(
            level=AttentionItem.Level.WARNING,
            title=f"Sizing: {first.message}",
            detail=(f"Also: {also} " if also else "") + f"Source: {'; '.join(sources)}.",
            url=_handoff_url(account, "sizing-check"),
        )
    ]


# --- Sections ------------------------------------------------------------------------------------
def section_context(record, user) -> dict:
    return {
        "overview": deployment_of(record),
        "can_edit": can(user, Action.RECORD_EDIT, record.account),
        "account": record.account,
    }


def sizing_section_context(record, user) -> dict:
    return {**section_context(record, user), "tiers": TIERS}


# The production deployment and code host fields the account's dashboard in Vitally shows.
VITALLY_TRAITS = (
    Trait(
        "technical_design_document_urls",
        "Link to any Technical Design Documents",
        "vitally.custom.technicalDesignDocuments",
        "lines",
        "textarea",
    ),
    Trait(
        "prod_infra_start_date",
        "Start date of implementation of production infrastructure",
        "vitally.custom.prodInfraStartDate",
        "date",
        "datetime",
    ),
    Trait(
        "prod_infra_completion_date",
        "Completion date of implementation of production infrastructure",
        "vitally.custom.prodInfraCompletionDate",
        "date",
        "datetime",
    ),
    Trait(
        "sourcegraph_instance_url",
        "Sourcegraph instance URL",
        "vitally.custom.sourcegraphInstanceUrl",
        "text",
        "string",
    ),
    Trait("deployment_type", "Deployment type", "vitally.custom.deploymentType", "text", "string"),
    Trait(
        "infrastructure_hosting_provider",
        "Infrastructure Hosting Provider",
        "vitally.custom.infrastructureHostingProvider",
        "text",
        "string",
    ),
    Trait(
        "machine_instance_types",
        "Machine Instance Types",
        "vitally.custom.machineInstanceTypes",
        "text",
        "string",
    ),
    Trait("total_cpu", "Total CPU", "vitally.custom.totalCpu", "number", "number"),
    Trait(
        "total_memory_gb", "Total Memory (GB)", "vitally.custom.totalMemoryGb", "number", "number"
    ),
    Trait(
        "total_disk_space_gb",
        "Total Disk Space (GB)",
        "vitally.custom.totalDiskSpaceGb",
        "number",
        "number",
    ),
    Trait(
        "code_hosts_in_use",
        "Code Hosts in Use",
        "vitally.custom.codeHostsInUse",
        "labels",
        "string",
    ),
    Trait(
        "number_of_repositories",
        "Number of Repositories",
        "vitally.custom.numberOfRepositories",
        "number",
        "number",
    ),
    Trait(
        "number_of_monorepos",
        "Number of Monorepos",
        "vitally.custom.numberOfMonorepos",
        "number",
        "number",
    ),
    Trait(
        "largest_repository_mb",
        "Largest Repository (MB)",
        "vitally.custom.largestRepositoryMb",
        "number",
        "number",
    ),
)


def vitally_values(record) -> dict:
    """The production deployment and code host fields Vitally shows."""
    summary = deployment_summary(deployment_of(record))
    return {
        "technical_design_document_urls": tuple(summary.technical_design_document_urls),
        "prod_infra_start_date": summary.prod_infra_start_date,
        "prod_infra_completion_date": summary.prod_infra_completion_date,
        "sourcegraph_instance_url": summary.sourcegraph_instance_url,
        "deployment_type": summary.deployment_type,
        "infrastructure_hosting_provider": summary.infrastructure_hosting_provider,
        "machine_instance_types": summary.machine_instance_types,
        "total_cpu": summary.total_cpu,
        "total_memory_gb": summary.total_memory_gb,
        "total_disk_space_gb": summary.total_disk_space_gb,
        "code_hosts_in_use": tuple(summary.code_hosts_in_use),
        "number_of_repositories": summary.number_of_repositories,
        "number_of_monorepos": summary.number_of_monorepos,
        "largest_repository_mb": summary.largest_repository_mb,
    }


def _load(account, *, for_snapshot: bool):
    return deployment_overview_get(account_id=account.pk)


def _load_many(accounts) -> dict:
    return deployment_overviews_list(account_ids=[account.pk for account in accounts])


def _rows(overview) -> list:
    return [
        *([overview.production] if overview.production else []),
        *overview.others,
        *overview.code_hosts,
    ]


DEPLOYMENTS = Contribution(
    key="deployments",
    load=_load,
    load_many=_load_many,
    rows=_rows,
    sections=(
        Section(
            "production-deployment",
            "Production deployment",
            "deployments/_section_production.html",
            section_context,
        ),
        Section(
            "other-environments",
            "Other environments",
            "deployments/_section_environments.html",
            section_context,
            half=True,
        ),
        Section(
            "code-hosts",
            "Code hosts",
            "deployments/_section_code_hosts.html",
            section_context,
            half=True,
        ),
        Section(
            "sizing-check",
            "Sizing check",
            "deployments/_section_sizing.html",
            sizing_section_context,
            half=True,
        ),
    ),
    rules=(
        Rule(
            "production_fields",
            "Required production fields present and valid",
            rule_production_fields,
            counted("production fields missing or invalid"),
        ),
        Rule(
            "code_host_details",
            "Code host details present",
            rule_code_host_details,
            counted("code host details missing"),
        ),
    ),
    attention=(attention_sizing,),
    snapshot=(
        Part(
            "production_deployment",
            "Production deployment",
            snapshot.snapshot_production,
            snapshot.markdown_production,
        ),
        Part(
            "other_environments",
            "Other environments",
            snapshot.snapshot_other_environments,
            snapshot.markdown_other_environments,
        ),
        Part(
            "code_hosts", "Code hosts", snapshot.snapshot_code_hosts, snapshot.markdown_code_hosts
        ),
        Part("sizing_check", "Sizing check", snapshot.snapshot_sizing, snapshot.markdown_sizing),
    ),
    vitally_traits=VITALLY_TRAITS,
    vitally_values=vitally_values,
)
