"""Machine instance types: a lenient naming check per hosting provider, and the vCPU / memory
that well-known types imply. Pure functions, no ORM.

The naming check only WARNS: providers add families every year and on-premises hardware has no
instance type at all, so an unexpected name is shown to the person, never refused. The patterns
follow each provider's documented convention (docs/domain.md §6):

- AWS: `<family>.<size>` e.g. m6a.4xlarge;
- Azure: `Standard_<Family><vCPUs><features>_v<version>`, also the docs' short form `D16_v3` and
  `D16 v3`;
- Google Cloud (and Sourcegraph Cloud, which runs only on GCP): `<series>-<type>-<vCPUs>`,
  e.g. n2-standard-16, plus `custom-…` and the shared-core `e2-medium` style;
- DigitalOcean: Droplet slugs such as `s-8vcpu-16gb` (not in domain.md: inferred from
  DigitalOcean's slug format, so only a loose pattern).

Implied resources are computed only for general-purpose families whose shape is regular and
which Sourcegraph's own sizing pages use: AWS m5/m5a/m6a/m6i/m7a/m7i (4 GiB per vCPU; `large`
= 2 vCPU, `xlarge` = 4, `Nxlarge` = 4N), GCP n2/n2d/e2/c2/c3 `-standard-N` (N vCPU, 4 GB per
vCPU), Azure D-series v3/v4/v5 (`D16_v3`, `Standard_D16s_v5`: N vCPU, 4 GiB per vCPU) and
DigitalOcean slugs that spell out `Nvcpu-Mgb`. Anything else implies nothing (no guess).
"""

import re
from dataclasses import dataclass

AWS = "aws"
GCP = "gcp"
AZURE = "azure"
DIGITALOCEAN = "digitalocean"
SOURCEGRAPH_CLOUD = "sourcegraph_cloud"

_AWS_RE = re.compile(r"^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|metal|\d*xlarge)$")
_AZURE_RE = re.compile(r"^((Standard|Basic)_)?[A-Z][A-Za-z0-9_]*( v\d+)?$")
_GCP_RE = re.compile(
    r"^([a-z][a-z0-9]*-[a-z]+-\d+|([a-z0-9]+-)?custom-\d+-\d+(-ext)?|e2-(micro|small|medium))$"
)
_DO_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")

# What each provider's names look like, for the warning text.
_EXAMPLES = {
    AWS: ("AWS instance type", "m6a.4xlarge"),
    AZURE: ("Azure VM size", "Standard_D16s_v3 or D16_v3"),
    GCP: ("Google Cloud machine type", "n2-standard-16"),
    DIGITALOCEAN: ("DigitalOcean Droplet size", "s-8vcpu-16gb"),
}
_PATTERNS = {AWS: _AWS_RE, AZURE: _AZURE_RE, GCP: _GCP_RE, DIGITALOCEAN: _DO_RE}

_AWS_GENERAL_PURPOSE = {"m5", "m5a", "m6a", "m6i", "m7a", "m7i"}
_AWS_SIZE = re.compile(r"^(?:(large)|(\d*)xlarge)$")
_GCP_STANDARD = re.compile(r"^(n2|n2d|e2|c2|c3)-standard-(\d+)$")
_AZURE_D = re.compile(r"^(?:Standard_)?D(\d+)(?:a|s|as|ds)?[_ ]v([345])$")
_DO_SLUG = re.compile(r"-(\d+)vcpu-(\d+)gb(?:-|$)")


@dataclass(frozen=True)
class Resources:
    vcpu: int
    memory_gb: int


def _provider_key(provider: str) -> str:
    return GCP if provider == SOURCEGRAPH_CLOUD else provider


def instance_type_warning(*, provider: str, instance_type: str) -> str:
    """'' when the name looks right for the provider (or the provider has no naming scheme,
    e.g. on-premises), else a sentence for the person to read. Never an error."""
    name = instance_type.strip()
    key = _provider_key(provider)
    if not name or key not in _PATTERNS:
        return ""
    if _PATTERNS[key].match(name):
        return ""
    kind, example = _EXAMPLES[key]
    for other, pattern in _PATTERNS.items():
        # Only the distinctive patterns say "another provider's" (DigitalOcean's is too loose).
        if other not in (key, DIGITALOCEAN) and pattern.match(name):
            return (
                f"“{name}” looks like {_a(_EXAMPLES[other][0])}, not {_a(kind)}: "
                "check the provider or the name."
            )
    return f"“{name}” does not look like {_a(kind)} (for example {example})."


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "AEIOU" else f"a {noun}"


def implied_resources(instance_type: str) -> Resources | None:
    """vCPU and memory of one instance of a well-known general-purpose type, else None."""
    name = instance_type.strip()
    family, _, size = name.partition(".")
    if family in _AWS_GENERAL_PURPOSE and (match := _AWS_SIZE.match(size)):
        vcpu = 2 if match.group(1) else 4 * int(match.group(2) or 1)
        return Resources(vcpu=vcpu, memory_gb=vcpu * 4)
    if match := _GCP_STANDARD.match(name):
        vcpu = int(match.group(2))
        return Resources(vcpu=vcpu, memory_gb=vcpu * 4) if vcpu else None
    if match := _AZURE_D.match(name):
        vcpu = int(match.group(1))
        return Resources(vcpu=vcpu, memory_gb=vcpu * 4) if vcpu else None
    if match := _DO_SLUG.search(name):
        return Resources(vcpu=int(match.group(1)), memory_gb=int(match.group(2)))
    return None


@dataclass(frozen=True)
class ImpliedTotals:
    vcpu: int
    memory_gb: int
    known_rows: int
    total_rows: int

    @property
    def complete(self) -> bool:
        return self.known_rows == self.total_rows


def implied_totals(rows: list[tuple[int, str]]) -> ImpliedTotals | None:
    """Sum count × resources over the rows whose type is known; None when none is known."""
    vcpu = memory = known = 0
    for count, instance_type in rows:
        resources = implied_resources(instance_type)
        if resources is not None:
            known += 1
            vcpu += count * resources.vcpu
            memory += count * resources.memory_gb
    if not known:
        return None
    return ImpliedTotals(vcpu=vcpu, memory_gb=memory, known_rows=known, total_rows=len(rows))


def totals_mismatch_warnings(
    *, implied: ImpliedTotals | None, total_cpu: int | None, total_memory_gb: int | None
) -> list[str]:
    """When every row is known and the entered totals differ from what the rows imply."""
    if implied is None or not implied.complete:
        return []
    warnings = []
    if total_cpu is not None and total_cpu != implied.vcpu:
        warnings.append(
            f"Total CPU {total_cpu:,} differs from the {implied.vcpu:,} vCPU the machine "
            f"instance types imply."
        )
    if total_memory_gb is not None and total_memory_gb != implied.memory_gb:
        warnings.append(
            f"Total Memory {total_memory_gb:,} GB differs from the {implied.memory_gb:,} GB the "
            f"machine instance types imply."
        )
    return warnings


@dataclass(frozen=True)
class InstanceCheck:
    """What the form and the account page show under Machine Instance Types."""

    row_warnings: tuple[str, ...]  # "Row 2: “m6a.4xl” does not look like an AWS instance type…"
    implied: ImpliedTotals | None
    mismatch_warnings: tuple[str, ...]

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.row_warnings + self.mismatch_warnings


def instance_check(
    *,
    provider: str,
    rows: list[tuple[int, str]],
    total_cpu: int | None,
    total_memory_gb: int | None,
) -> InstanceCheck:
    row_warnings = []
    for number, (_, instance_type) in enumerate(rows, start=1):
        warning = instance_type_warning(provider=provider, instance_type=instance_type)
        if warning:
            row_warnings.append(f"Row {number}: {warning}" if len(rows) > 1 else warning)
    implied = implied_totals(rows)
    return InstanceCheck(
        row_warnings=tuple(row_warnings),
        implied=implied,
        mismatch_warnings=tuple(
            totals_mismatch_warnings(
                implied=implied, total_cpu=total_cpu, total_memory_gb=total_memory_gb
            )
        ),
    )
