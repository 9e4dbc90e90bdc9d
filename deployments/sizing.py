"""The sizing check: a production deployment and its discussed limits against Sourcegraph's
published instance sizes. A pure function (`sizing_check`), no ORM, so it is table-tested.

Sources (docs/domain.md §3):

- CHART: the docs' instance-size chart (self-hosted/deploy/instance-size): users, repositories,
  vCPU and memory per tier XS..XL, and "if a deployment falls between two sizes, choose the
  larger".
- TSHIRT: the sourcegraph/deploy README's load-tested T-shirt sizes: largest repository size and
  concurrent users per tier.
- ROCKSKIP: the docs' Rockskip page: worth it for a repository with a "2GB+ .git directory".

The sources disagree; this module reads them ONE way (the README says the same):

1. Tier limits are inclusive upper bounds ("up to", as the chart and the resource estimator's
   `<=` say): 500 users is XS, 501 users is S. The machine-image pages' "≥" wording and their
   example (1,000 users with 80,000 repositories → M) are not used; the chart's example
   (→ L) is.
2. XS holds up to 5,000 repositories (the chart and the estimator), not the deploy README's 1,000.
3. Every dimension picks a tier on its own (users and repositories from CHART; concurrent users
   and largest repository from TSHIRT) and the recommendation is the LARGEST of them ("choose
   the larger"). When a TSHIRT limit pushes the tier above what users and repositories need, a
   warning says which limit did ("Largest repository 30 GB exceeds tier S's 23 GB").
4. Repositories = the larger of the discussed upper limit and the number recorded on the code
   hosts: the instance must carry what is actually synced.
5. 1 GB = 1,024 MB (Largest Repository is recorded in MB, as git and du report it).
6. A repository of 2 GB or more is a monorepo for the Rockskip check (the Rockskip page's 2GB+,
   the estimator's "larger than 2GB").
7. vCPU and memory are the chart's rows (the Azure column's D64_v3 for XL has 64 vCPU, not 96:
   the provider columns are ignored).
8. Beyond XL (over 20,000 users, 250,000 repositories, 4,000 concurrent users or 35 GB): no
   tier is recommended; a warning says the chart ends there, and CPU and memory are compared
   with XL as the least the deployment needs.
9. Sourcegraph Cloud instances are sized by Sourcegraph: their CPU and memory are not checked.
"""

from collections.abc import Callable
from dataclasses import dataclass

SOURCE_CHART = "Sourcegraph docs: instance size chart"
SOURCE_TSHIRT = "sourcegraph/deploy README: T-shirt sizes"
SOURCE_ROCKSKIP = "Sourcegraph docs: Rockskip"

MB_PER_GB = 1024
MONOREPO_MB = 2 * MB_PER_GB


@dataclass(frozen=True)
class Tier:
    name: str
    max_users: int  # CHART
    max_repositories: int  # CHART
    vcpu: int  # CHART
    memory_gb: int  # CHART
    max_largest_repository_gb: int  # TSHIRT
    max_concurrent_users: int  # TSHIRT


TIERS: tuple[Tier, ...] = (
    Tier("XS", 500, 5_000, 8, 32, 5, 100),
    Tier("S", 1_000, 10_000, 16, 64, 23, 200),
    Tier("M", 5_000, 50_000, 32, 128, 23, 1_000),
    Tier("L", 10_000, 100_000, 48, 192, 35, 2_000),
    Tier("XL", 20_000, 250_000, 96, 384, 35, 4_000),
)
LARGEST_TIER = TIERS[-1]


@dataclass(frozen=True)
class SizingInput:
    users: int | None = None  # discussed upper limit
    concurrent_users: int | None = None  # discussed upper limit
    repositories_discussed: int | None = None  # discussed upper limit
    repositories_recorded: int | None = None  # the code hosts' Number of Repositories
    largest_repository_mb: int | None = None  # the code hosts' Largest Repository (MB)
    monorepos: int | None = None  # the code hosts' Number of Monorepos
    total_cpu: int | None = None
    total_memory_gb: int | None = None
    rockskip_enabled: bool = False
    managed_by_sourcegraph: bool = False  # Sourcegraph Cloud


@dataclass(frozen=True)
class SizingWarning:
    message: str
    source: str


@dataclass(frozen=True)
class SizingResult:
    tier: Tier | None  # the recommendation; None without limits, or beyond the chart
    reasons: tuple[str, ...]  # what decided it: "3,000 users", "a 30 GB largest repository"
    beyond_chart: bool
    provisioned_tier: Tier | None  # the largest tier whose vCPU and memory are both met
    warnings: tuple[SizingWarning, ...]
    notes: tuple[str, ...]  # what is missing for a full check

    @property
    def reason_text(self) -> str:
        return _join(self.reasons)


@dataclass(frozen=True)
class _Dimension:
    phrase: str  # "3,000 users", as in "for 3,000 users"
    subject: str  # "3,000 users exceed", as in "... exceed tier S's 1,000"
    tier_index: int | None  # None: beyond XL
    source: str
    limit: Callable[[Tier], str]  # the tier's limit for this dimension, as text


def _join(parts) -> str:
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _tier_index(value: int, limit_of: Callable[[Tier], int]) -> int | None:
    for index, tier in enumerate(TIERS):
        if value <= limit_of(tier):
            return index
    return None


def format_gb(megabytes: int) -> str:
    """4096 → "4 GB", 4000 → "3.9 GB", 30720 → "30 GB"."""
    gigabytes = megabytes / MB_PER_GB
    if gigabytes >= 10 or gigabytes == int(gigabytes):
        return f"{gigabytes:,.0f} GB"
    return f"{gigabytes:,.1f} GB"


def _dimensions(data: SizingInput) -> tuple[list[_Dimension], list[_Dimension]]:
    """(the chart's dimensions: users, repositories; the T-shirt ones: concurrent, largest)."""
    chart, tshirt = [], []
    if data.users:
        chart.append(
            _Dimension(
                f"{data.users:,} users",
                f"{data.users:,} users exceed",
                _tier_index(data.users, lambda t: t.max_users),
                SOURCE_CHART,
                lambda t: f"{t.max_users:,}",
            )
        )
    known = [n for n in (data.repositories_discussed, data.repositories_recorded) if n]
    if known:
        repositories = max(known)
        chart.append(
            _Dimension(
                f"{repositories:,} repositories",
                f"{repositories:,} repositories exceed",
                _tier_index(repositories, lambda t: t.max_repositories),
                SOURCE_CHART,
                lambda t: f"{t.max_repositories:,}",
            )
        )
    if data.concurrent_users:
        tshirt.append(
            _Dimension(
                f"{data.concurrent_users:,} concurrent users",
                f"{data.concurrent_users:,} concurrent users exceed",
                _tier_index(data.concurrent_users, lambda t: t.max_concurrent_users),
                SOURCE_TSHIRT,
                lambda t: f"{t.max_concurrent_users:,}",
            )
        )
    if data.largest_repository_mb:
        size = format_gb(data.largest_repository_mb)
        tshirt.append(
            _Dimension(
                f"a {size} largest repository",
                f"Largest repository {size} exceeds",
                _tier_index(
                    data.largest_repository_mb, lambda t: t.max_largest_repository_gb * MB_PER_GB
                ),
                SOURCE_TSHIRT,
                lambda t: f"{t.max_largest_repository_gb} GB",
            )
        )
    return chart, tshirt


def sizing_check(data: SizingInput) -> SizingResult:
    """Recommend a tier for the deployment and say, with sources, where it falls short."""
    warnings: list[SizingWarning] = []
    notes: list[str] = []
    chart_dims, tshirt_dims = _dimensions(data)
    dims = chart_dims + tshirt_dims
    beyond = [dim for dim in dims if dim.tier_index is None]
    for dim in beyond:
        warnings.append(
            SizingWarning(
                f"{dim.subject} tier {LARGEST_TIER.name}'s {dim.limit(LARGEST_TIER)}, the "
                "largest published size: plan this instance with Sourcegraph (resource "
                "estimator, Kubernetes with autoscaling).",
                dim.source,
            )
        )
    # Users and repositories set the base tier; a T-shirt limit above it is worth saying.
    base = _max_index(chart_dims)
    if base is not None:
        for dim in tshirt_dims:
            if dim.tier_index is not None and dim.tier_index > base:
                warnings.append(
                    SizingWarning(
                        f"{dim.subject} tier {TIERS[base].name}'s {dim.limit(TIERS[base])}: "
                        f"choose tier {TIERS[dim.tier_index].name}.",
                        dim.source,
                    )
                )

    tier: Tier | None = None
    reasons: tuple[str, ...] = ()
    if not dims:
        notes.append(
            "Record the discussed upper limits (users, concurrent users, repositories) or the "
            "code hosts to get a recommendation."
        )
    else:
        if beyond:
            target = LARGEST_TIER
            reasons = tuple(dim.phrase for dim in beyond)
        else:
            index = _max_index(dims)
            tier = target = TIERS[index]
            reasons = tuple(dim.phrase for dim in dims if dim.tier_index == index)
        if not data.users:
            notes.append("The discussed upper limit for users is not recorded.")
        if data.managed_by_sourcegraph:
            notes.append(
                "Sourcegraph Cloud instances are sized by Sourcegraph: CPU and memory are not "
                "checked."
            )
        else:
            warnings.extend(_resource_warnings(data, target, _join(reasons), notes))
    return SizingResult(
        tier=tier,
        reasons=reasons,
        beyond_chart=bool(beyond),
        provisioned_tier=_provisioned(data),
        warnings=tuple(warnings) + _rockskip(data),
        notes=tuple(notes),
    )


def _resource_warnings(
    data: SizingInput, target: Tier, for_text: str, notes: list[str]
) -> list[SizingWarning]:
    warnings = []
    if data.total_cpu is None:
        notes.append("Total CPU is not recorded.")
    elif data.total_cpu < target.vcpu:
        warnings.append(
            SizingWarning(
                f"Total CPU {data.total_cpu:,} is below the {target.vcpu} vCPU of tier "
                f"{target.name} for {for_text}.",
                SOURCE_CHART,
            )
        )
    if data.total_memory_gb is None:
        notes.append("Total Memory (GB) is not recorded.")
    elif data.total_memory_gb < target.memory_gb:
        warnings.append(
            SizingWarning(
                f"Total Memory {data.total_memory_gb:,} GB is below the {target.memory_gb} GB "
                f"of tier {target.name} for {for_text}.",
                SOURCE_CHART,
            )
        )
    return warnings


def _max_index(dims: list[_Dimension]) -> int | None:
    indexes = [dim.tier_index for dim in dims]
    if not indexes or None in indexes:
        return None
    return max(indexes)


def _provisioned(data: SizingInput) -> Tier | None:
    if data.total_cpu is None or data.total_memory_gb is None:
        return None
    fitting = [t for t in TIERS if data.total_cpu >= t.vcpu and data.total_memory_gb >= t.memory_gb]
    return fitting[-1] if fitting else None


def _rockskip(data: SizingInput) -> tuple[SizingWarning, ...]:
    if data.rockskip_enabled:
        return ()
    if data.largest_repository_mb and data.largest_repository_mb >= MONOREPO_MB:
        return (
            SizingWarning(
                f"A {format_gb(data.largest_repository_mb)} monorepo and Rockskip is not "
                "enabled: symbol search and code navigation may time out on it.",
                SOURCE_ROCKSKIP,
            ),
        )
    if data.monorepos and not data.largest_repository_mb:
        noun = "monorepo" if data.monorepos == 1 else "monorepos"
        return (
            SizingWarning(
                f"{data.monorepos:,} {noun} recorded and Rockskip is not enabled: record the "
                "largest repository's size to check whether it needs Rockskip.",
                SOURCE_ROCKSKIP,
            ),
        )
    return ()
