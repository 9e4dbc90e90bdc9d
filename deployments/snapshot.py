"""The deployment record's parts of the signed snapshot, and their Markdown: pure functions of
the record's deployment slice and of the snapshot data."""

from deployments.models import Environment
from deployments.selectors import deployment_of
from deployments.services import INSTANCE_TYPES_LABEL
from handoff.closeout.markdown import md_date, md_link, md_table, md_text


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


def snapshot_production(record) -> dict | None:
    production = deployment_of(record).production
    return environment_data(production) if production else None


def snapshot_other_environments(record) -> list[dict]:
    return [environment_data(e) for e in deployment_of(record).others]


def snapshot_code_hosts(record) -> dict:
    overview = deployment_of(record)
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


def snapshot_sizing(record) -> dict:
    sizing = deployment_of(record).sizing

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
