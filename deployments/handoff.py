"""What the deployment record adds to the handoff (registered in DeploymentsConfig.ready()):
two readiness rules, the sizing warnings in the attention strip, and four snapshot sections
with their Markdown.

Every function here reads the account as `account_handoff_get` loads it, with
`selectors.handoff_prefetch()` applied: no query of its own, whatever the record's size.
The Markdown renderers are pure functions of the snapshot data."""

from django.core.exceptions import ValidationError
from django.urls import reverse

from deployments.models import Environment
from deployments.selectors import deployment_overview_get, handoff_prefetch
from handoff.closeout.attention import AttentionItem, register_attention_provider
from handoff.closeout.markdown import (
    md_date,
    md_link,
    md_table,
    md_text,
    register_markdown_renderer,
)
from handoff.closeout.readiness import Blocker, register_readiness_rule
from handoff.closeout.snapshot import register_snapshot_provider

# Deployments' rules and sections take orders 100-299 (logs 300-599, the checklist 900).
ORDER_PRODUCTION = 100
ORDER_OTHER_ENVIRONMENTS = 110
ORDER_CODE_HOSTS = 120
ORDER_SIZING = 130

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
INSTANCE_TYPES_LABEL = "Machine Instance Types"
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


def _handoff_url(account, fragment: str) -> str:
    return reverse("closeout:handoff", args=[account.pk]) + f"#{fragment}"


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
def rule_production_fields(account) -> list[Blocker]:
    """A production environment with every required handbook field, each one valid."""
    production = deployment_overview_get(account=account).production
    if production is None:
        return [
            Blocker(
                title="No production deployment recorded",
                detail="Record the production deployment with the handbook's fields.",
                url=_production_url(account),
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
            )
        )
    return blockers


def rule_code_host_details(account) -> list[Blocker]:
    """At least one code host, repositories counted, the largest repository's size recorded
    (the handbook's four code host details), every connection valid."""
    overview = deployment_overview_get(account=account)
    url = _code_hosts_url(account)
    if not overview.code_hosts:
        return [
            Blocker(
                title="No code host recorded",
                detail="Record each code host connection with its number of repositories.",
                url=url,
            )
        ]
    blockers = []
    if not overview.totals.number_of_repositories:
        blockers.append(
            Blocker(
                title="No repositories counted on the code hosts",
                detail="Enter the number of repositories each code host syncs.",
                url=url,
            )
        )
    if overview.totals.largest_repository_mb is None:
        blockers.append(
            Blocker(
                title="Largest Repository (MB) not recorded",
                detail="Enter the size of the largest repository on its code host.",
                url=url,
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
                )
            )
    return blockers


# --- Attention -----------------------------------------------------------------------------------
def attention_sizing(account) -> list[AttentionItem]:
    """Each warning of the sizing check (deployments/sizing.py), with its source."""
    sizing = deployment_overview_get(account=account).sizing
    return [
        AttentionItem(
            level=AttentionItem.Level.WARNING,
            title=f"Sizing: {warning.message}",
            detail=f"Source: {warning.source}.",
            url=_handoff_url(account, "sizing-check"),
        )
        for warning in sizing.warnings
    ]


# --- Snapshot sections ---------------------------------------------------------------------------
def _iso(value) -> str | None:
    return value.isoformat() if value else None


_SPECIAL_FLAGS = [
    "rockskip_enabled",
    "external_postgres",
    "external_redis",
    "external_object_storage",
    "executors_enabled",
]


def environment_data(environment: Environment) -> dict:
    """One environment as JSON-safe data: choices as labels, dates as ISO strings."""
    e = environment
    return {
        "environment": e.get_kind_display(),
        "name": e.name,
        "technical_design_documents": [
            {"title": d.title, "url": d.url} for d in e.design_documents.all()
        ],
        "infra_start_date": _iso(e.infra_start_date),
        "infra_completion_date": _iso(e.infra_completion_date),
        "sourcegraph_instance_url": e.sourcegraph_instance_url,
        "deployment_type": e.deployment_type_label,
        "deployment_type_note": e.deployment_type_legacy_note,
        "infrastructure_hosting_provider": e.hosting_provider_label,
        "machine_instance_types": [
            {"count": r.count, "instance_type": r.instance_type} for r in e.instance_types.all()
        ],
        "total_cpu": e.total_cpu,
        "total_memory_gb": e.total_memory_gb,
        "total_disk_space_gb": e.total_disk_space_gb,
        "sourcegraph_version": e.sourcegraph_version,
        "special_deployment_details": [
            str(Environment._meta.get_field(flag).verbose_name)
            for flag in _SPECIAL_FLAGS
            if getattr(e, flag)
        ],
        "other_special_details": e.special_details,
        "discussed_upper_limits": {
            "users": e.max_users,
            "concurrent_users": e.max_concurrent_users,
            "repositories": e.max_repositories,
        },
    }


def snapshot_production(account) -> dict | None:
    production = deployment_overview_get(account=account).production
    return environment_data(production) if production else None


def snapshot_other_environments(account) -> list[dict]:
    return [environment_data(e) for e in deployment_overview_get(account=account).others]


def snapshot_code_hosts(account) -> dict:
    overview = deployment_overview_get(account=account)
    totals = overview.totals
    return {
        "totals": {
            "code_hosts_in_use": totals.code_hosts_in_use,
            "number_of_repositories": totals.number_of_repositories,
            "number_of_monorepos": totals.number_of_monorepos,
            "largest_repository_mb": totals.largest_repository_mb,
        },
        "connections": [
            {
                "code_host": c.get_kind_display(),
                "display_name": c.display_name,
                "url": c.url,
                "number_of_repositories": c.repository_count,
                "number_of_monorepos": c.monorepo_count,
                "largest_repository_mb": c.largest_repository_mb,
            }
            for c in overview.code_hosts
        ],
    }


def snapshot_sizing(account) -> dict:
    sizing = deployment_overview_get(account=account).sizing

    def tier(t) -> dict | None:
        return None if t is None else {"name": t.name, "vcpu": t.vcpu, "memory_gb": t.memory_gb}

    return {
        "recommended_tier": tier(sizing.tier),
        "beyond_chart": sizing.beyond_chart,
        "for": sizing.reason_text,
        "provisioned_tier": tier(sizing.provisioned_tier),
        "warnings": [{"message": w.message, "source": w.source} for w in sizing.warnings],
        "notes": list(sizing.notes),
    }


# --- Markdown ------------------------------------------------------------------------------------
def _number(value) -> str:
    return "—" if value is None else f"{value:,}"


def _instances(rows: list[dict]) -> str:
    return ", ".join(f"{r['count']} × {md_text(r['instance_type'])}" for r in rows) or "—"


def _documents(documents: list[dict]) -> str:
    return "; ".join(f"{md_text(d['title'])} {md_link(d['url'])}" for d in documents) or "—"


def _special(data: dict) -> str:
    parts = [md_text(flag) for flag in data["special_deployment_details"]]
    if data["other_special_details"]:
        parts.append(md_text(data["other_special_details"]))
    return "; ".join(parts) or "—"


def _limits(limits: dict) -> str:
    parts = [
        f"{limits[key]:,} {noun}"
        for key, noun in [
            ("users", "users"),
            ("concurrent_users", "concurrent users"),
            ("repositories", "repositories"),
        ]
        if limits.get(key) is not None
    ]
    return ", ".join(parts) or "—"


def _deployment_type(data: dict) -> str:
    text = md_text(data["deployment_type"])
    note = data["deployment_type_note"]
    return f"{text} ({md_text(note)})" if note else text


def environment_rows(data: dict) -> list[list[str]]:
    return [
        ["Link to any Technical Design Documents", _documents(data["technical_design_documents"])],
        [
            "Start date of implementation of production infrastructure",
            md_date(data["infra_start_date"]),
        ],
        [
            "Completion date of implementation of production infrastructure",
            md_date(data["infra_completion_date"]),
        ],
        ["Sourcegraph instance URL", md_link(data["sourcegraph_instance_url"])],
        ["Deployment type", _deployment_type(data)],
        ["Infrastructure Hosting Provider", md_text(data["infrastructure_hosting_provider"])],
        [INSTANCE_TYPES_LABEL, _instances(data["machine_instance_types"])],
        ["Total CPU", _number(data["total_cpu"])],
        ["Total Memory (GB)", _number(data["total_memory_gb"])],
        ["Total Disk Space (GB)", _number(data["total_disk_space_gb"])],
        ["Sourcegraph version", md_text(data["sourcegraph_version"])],
        ["Special deployment details", _special(data)],
        ["Discussed upper limits", _limits(data["discussed_upper_limits"])],
    ]


def markdown_production(data: dict | None) -> str:
    if not data:
        return "No production deployment recorded."
    return md_table(["Field", "Value"], environment_rows(data))


def markdown_other_environments(data: list[dict]) -> str:
    if not data:
        return "No other environments recorded."
    parts = []
    for environment in data:
        name = md_text(environment["environment"])
        if environment["name"]:
            name += f": {md_text(environment['name'])}"
        rows = [row for row in environment_rows(environment) if row[1] != "—"]
        parts.append(f"**{name}**\n\n" + md_table(["Field", "Value"], rows or [["—", "—"]]))
    return "\n\n".join(parts)


def markdown_code_hosts(data: dict) -> str:
    totals = data["totals"]
    kinds = ", ".join(md_text(k) for k in totals["code_hosts_in_use"]) or "—"
    summary = md_table(
        ["Field", "Value"],
        [
            ["Code Hosts in Use", kinds],
            ["Number of Repositories", _number(totals["number_of_repositories"])],
            ["Number of Monorepos", _number(totals["number_of_monorepos"])],
            ["Largest Repository (MB)", _number(totals["largest_repository_mb"])],
        ],
    )
    if not data["connections"]:
        return summary + "\n\nNo code host connections recorded."
    rows = [
        [
            md_text(c["code_host"]),
            md_text(c["display_name"]),
            md_link(c["url"]),
            _number(c["number_of_repositories"]),
            _number(c["number_of_monorepos"]),
            _number(c["largest_repository_mb"]),
        ]
        for c in data["connections"]
    ]
    connections = md_table(
        ["Code host", "Name", "URL", "Repositories", "Monorepos", "Largest repository (MB)"], rows
    )
    return summary + "\n\n" + connections


def markdown_sizing(data: dict) -> str:
    tier = data["recommended_tier"]
    if tier:
        lines = [
            f"Recommended tier: **{tier['name']}** ({tier['vcpu']} vCPU, {tier['memory_gb']} GB "
            f"memory) for {md_text(data['for'])}."
        ]
    elif data["beyond_chart"]:
        lines = [f"Beyond tier XL for {md_text(data['for'])}: plan the size with Sourcegraph."]
    else:
        lines = ["No tier recommended."]
    provisioned = data["provisioned_tier"]
    if provisioned:
        lines.append(f"The recorded CPU and memory reach tier {provisioned['name']}.")
    if data["warnings"]:
        lines += ["", "Warnings:", ""]
        lines += [
            f"- {md_text(w['message'])} (Source: {md_text(w['source'])})" for w in data["warnings"]
        ]
    if data["notes"]:
        lines += ["", *[f"- {md_text(note)}" for note in data["notes"]]]
    return "\n".join(lines)


def register_handoff() -> None:
    prefetch = handoff_prefetch()
    register_readiness_rule(
        "production_fields",
        "Required production fields present and valid",
        rule_production_fields,
        order=ORDER_PRODUCTION,
        prefetch=prefetch,
    )
    register_readiness_rule(
        "code_host_details",
        "Code host details present",
        rule_code_host_details,
        order=ORDER_CODE_HOSTS,
        prefetch=prefetch,
    )
    register_attention_provider("sizing", attention_sizing, order=ORDER_SIZING, prefetch=prefetch)
    for key, title, fn, order, render in [
        (
            "production_deployment",
            "Production deployment",
            snapshot_production,
            ORDER_PRODUCTION,
            markdown_production,
        ),
        (
            "other_environments",
            "Other environments",
            snapshot_other_environments,
            ORDER_OTHER_ENVIRONMENTS,
            markdown_other_environments,
        ),
        ("code_hosts", "Code hosts", snapshot_code_hosts, ORDER_CODE_HOSTS, markdown_code_hosts),
        ("sizing_check", "Sizing check", snapshot_sizing, ORDER_SIZING, markdown_sizing),
    ]:
        register_snapshot_provider(key, title, fn, order=order, prefetch=prefetch)
        register_markdown_renderer(key, render)
