"""The deployment record of an account: its environments (exactly one production), each with
design documents and machine instance rows, and the account's code host connections.

Labels are the handbook's words ("Total CPU", "Machine Instance Types", ...): History and the
forms show them as they are."""

from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models
from django.db.models import Q

from handoff.common.models import TimestampedModel, VersionedModel
from handoff.common.validators import HttpURLField

# Sane upper bounds: far above any real Sourcegraph instance (the resource estimator stops at
# 50,000 users and 5,000,000 repositories), low enough to catch a slipped finger.
MAX_TOTAL_CPU = 10_000
MAX_TOTAL_MEMORY_GB = 100_000
MAX_TOTAL_DISK_GB = 1_000_000  # 1 PB
MAX_USERS = 1_000_000
MAX_REPOSITORIES = 10_000_000
MAX_MONOREPOS = 100_000
MAX_REPOSITORY_MB = 10_000_000  # about 10 TB
MAX_INSTANCE_COUNT = 1_000

sourcegraph_version_validator = RegexValidator(
    r"^v?\d+\.\d+(\.\d+)?([-+_][0-9A-Za-z._-]+)?$",
    "Enter a Sourcegraph version such as 5.11.6271 or 6.0.0.",
)


def _bounded(low: int, high: int) -> list:
    return [MinValueValidator(low), MaxValueValidator(high)]


class Environment(VersionedModel):
    """One deployment environment of an account. The production one feeds the dashboard and
    Vitally; the others have the same shape with fewer required fields."""

    class Kind(models.TextChoices):
        PRODUCTION = "production", "Production"
        STAGING = "staging", "Staging"
        DEVELOPMENT = "development", "Development"
        DISASTER_RECOVERY = "disaster_recovery", "Disaster recovery"
        TEST = "test", "Test"
        OTHER = "other", "Other"

    class DeploymentType(models.TextChoices):
        # domain.md §1: current methods first, then the earlier ones still seen at customers.
        SOURCEGRAPH_CLOUD = "sourcegraph_cloud", "Sourcegraph Cloud"
        KUBERNETES_HELM = "kubernetes_helm", "Kubernetes with Helm"
        DOCKER_COMPOSE = "docker_compose", "Docker Compose"
        KUBERNETES_KUSTOMIZE = "kubernetes_kustomize", "Kubernetes with Kustomize"
        MACHINE_IMAGE_AMI = "machine_image_ami", "Machine Image (AWS AMI)"
        MACHINE_IMAGE_GCE = "machine_image_gce", "Machine Image (GCE)"
        AWS_ONE_CLICK = "aws_one_click", "AWS One-Click"
        SINGLE_NODE_SCRIPT = "single_node_script", "Single-node install script (k3s)"
        DOCKER_SINGLE_CONTAINER = (
            "docker_single_container",
            ("Docker single container (sourcegraph/server)"),
        )
        OTHER = "other", "Other"

    # Why each earlier method is marked in the picker and on the account page.
    LEGACY_DEPLOYMENT_TYPES = {
        DeploymentType.KUBERNETES_KUSTOMIZE: "legacy, planned for deprecation",
        DeploymentType.MACHINE_IMAGE_AMI: "legacy, sunset in 7.0",
        DeploymentType.MACHINE_IMAGE_GCE: "legacy, sunset in 7.0",
        DeploymentType.AWS_ONE_CLICK: "legacy, sunset in 7.0",
        DeploymentType.SINGLE_NODE_SCRIPT: "legacy, sunset in 7.0",
        DeploymentType.DOCKER_SINGLE_CONTAINER: "legacy, removed in 7.0, not for production",
    }

    class HostingProvider(models.TextChoices):
        AWS = "aws", "AWS"
        GCP = "gcp", "Google Cloud"
        AZURE = "azure", "Azure"
        DIGITALOCEAN = "digitalocean", "DigitalOcean"
        ON_PREMISES = "on_premises", "On-premises"
        SOURCEGRAPH_CLOUD = "sourcegraph_cloud", "Sourcegraph Cloud (GCP)"
        OTHER = "other", "Other"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="environments"
    )
    kind = models.CharField("environment", max_length=20, choices=Kind.choices)
    name = models.CharField(
        "name",
        max_length=100,
        blank=True,
        help_text="Tells environments of the same kind apart, e.g. “EU staging”.",
    )
    infra_start_date = models.DateField(
        "Start date of implementation of production infrastructure", null=True, blank=True
    )
    infra_completion_date = models.DateField(
        "Completion date of implementation of production infrastructure",
        null=True,
        blank=True,
        help_text="Leave empty while the work is in progress.",
    )
    sourcegraph_instance_url = HttpURLField("Sourcegraph instance URL", max_length=500, blank=True)
    deployment_type = models.CharField(
        "Deployment type", max_length=40, choices=DeploymentType.choices, blank=True
    )
    deployment_type_other = models.CharField("other deployment type", max_length=200, blank=True)
    hosting_provider = models.CharField(
        "Infrastructure Hosting Provider",
        max_length=40,
        choices=HostingProvider.choices,
        blank=True,
    )
    hosting_provider_other = models.CharField("other hosting provider", max_length=200, blank=True)
    total_cpu = models.PositiveIntegerField(
        "Total CPU",
        null=True,
        blank=True,
        validators=_bounded(1, MAX_TOTAL_CPU),
        help_text="vCPU across every node.",
    )
    total_memory_gb = models.PositiveIntegerField(
        "Total Memory (GB)", null=True, blank=True, validators=_bounded(1, MAX_TOTAL_MEMORY_GB)
    )
    total_disk_space_gb = models.PositiveIntegerField(
        "Total Disk Space (GB)", null=True, blank=True, validators=_bounded(1, MAX_TOTAL_DISK_GB)
    )
    sourcegraph_version = models.CharField(
        "Sourcegraph version",
        max_length=50,
        blank=True,
        validators=[sourcegraph_version_validator],
    )
    # Special deployment details (handbook: "ex: rockskip enabled, externalized PostgreSQL").
    rockskip_enabled = models.BooleanField("Rockskip enabled", default=False)
    external_postgres = models.BooleanField("External PostgreSQL", default=False)
    external_redis = models.BooleanField("External Redis", default=False)
    external_object_storage = models.BooleanField("External object storage", default=False)
    executors_enabled = models.BooleanField("Executors / auto-indexing", default=False)
    special_details = models.TextField(
        "Other special deployment details",
        max_length=5000,
        blank=True,
        validators=[MaxLengthValidator(5000)],  # TextField's max_length binds only the form
    )
    # Discussed upper limits on initial deployment.
    max_users = models.PositiveIntegerField(
        "Discussed upper limit: users", null=True, blank=True, validators=_bounded(1, MAX_USERS)
    )
    max_concurrent_users = models.PositiveIntegerField(
        "Discussed upper limit: concurrent users",
        null=True,
        blank=True,
        validators=_bounded(1, MAX_USERS),
    )
    max_repositories = models.PositiveIntegerField(
        "Discussed upper limit: repositories",
        null=True,
        blank=True,
        validators=_bounded(1, MAX_REPOSITORIES),
    )

    class Meta:
        ordering = ["account", "pk"]  # pages sort production first (selectors)
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(kind="production"),
                name="environment_one_production_per_account",
                violation_error_message="This account already has a production environment.",
            ),
            models.CheckConstraint(
                condition=Q(infra_completion_date__isnull=True)
                | Q(infra_start_date__isnull=True)
                | Q(infra_completion_date__gte=models.F("infra_start_date")),
                name="environment_completion_not_before_start",
                violation_error_message="The completion date cannot be before the start date.",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_kind_display()
        if self.name:
            return f"{label} environment “{self.name}”"
        return f"{label} environment"

    @property
    def is_production(self) -> bool:
        return self.kind == self.Kind.PRODUCTION

    @property
    def deployment_type_label(self) -> str:
        """The label Vitally and the page show; Other carries its description."""
        if self.deployment_type == self.DeploymentType.OTHER and self.deployment_type_other:
            return f"Other: {self.deployment_type_other}"
        return self.get_deployment_type_display() if self.deployment_type else ""

    @property
    def deployment_type_legacy_note(self) -> str:
        return self.LEGACY_DEPLOYMENT_TYPES.get(self.deployment_type, "")

    @property
    def hosting_provider_label(self) -> str:
        if self.hosting_provider == self.HostingProvider.OTHER and self.hosting_provider_other:
            return f"Other: {self.hosting_provider_other}"
        return self.get_hosting_provider_display() if self.hosting_provider else ""

    def clean(self):
        errors = {}
        if self.is_production:
            for name in ("deployment_type", "hosting_provider"):
                if not getattr(self, name):
                    errors[name] = "The production environment needs this."
        elif self.kind == self.Kind.OTHER and not self.name.strip():
            errors["name"] = "Name an environment of kind Other, e.g. “Load test”."
        if self.deployment_type == self.DeploymentType.OTHER and not self.deployment_type_other:
            errors["deployment_type_other"] = "Describe the deployment type."
        if self.hosting_provider == self.HostingProvider.OTHER and not self.hosting_provider_other:
            errors["hosting_provider_other"] = "Name the hosting provider."
        if (
            self.infra_start_date
            and self.infra_completion_date
            and self.infra_completion_date < self.infra_start_date
        ):
            errors["infra_completion_date"] = "The completion date cannot be before the start date."
        if (
            self.max_users
            and self.max_concurrent_users
            and self.max_concurrent_users > self.max_users
        ):
            errors["max_concurrent_users"] = "Concurrent users cannot exceed the users limit."
        if errors:
            raise ValidationError(errors)


class DesignDocument(TimestampedModel):
    """One "Link to any Technical Design Documents" entry of an environment."""

    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="design_documents"
    )
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField("title", max_length=200)
    url = HttpURLField("URL", max_length=500)

    class Meta:
        ordering = ["environment", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.title} <{self.url}>"


class InstanceTypeRow(TimestampedModel):
    """One "Machine Instance Types" row: count × type, e.g. 3 × m6a.4xlarge."""

    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="instance_types"
    )
    position = models.PositiveSmallIntegerField(default=0)
    count = models.PositiveIntegerField("count", validators=_bounded(1, MAX_INSTANCE_COUNT))
    instance_type = models.CharField("instance type", max_length=100)

    class Meta:
        ordering = ["environment", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.count} × {self.instance_type}"


class CodeHostConnection(VersionedModel):
    """A code host connection of the account; the handbook's code host totals derive from these."""

    class Kind(models.TextChoices):
        # domain.md §2: the docs' support matrix first, package hosts last.
        GITHUB_COM = "github_com", "GitHub.com"
        GITHUB_ENTERPRISE = "github_enterprise", "GitHub Enterprise Server"
        GITLAB_COM = "gitlab_com", "GitLab.com"
        GITLAB_SELF_MANAGED = "gitlab_self_managed", "GitLab Self-Managed"
        BITBUCKET_CLOUD = "bitbucket_cloud", "Bitbucket Cloud"
        BITBUCKET_SERVER = "bitbucket_server", "Bitbucket Server / Data Center"
        AZURE_DEVOPS = "azure_devops", "Azure DevOps"
        GERRIT = "gerrit", "Gerrit"
        AWS_CODECOMMIT = "aws_codecommit", "AWS CodeCommit"
        PERFORCE = "perforce", "Perforce"
        PLASTIC_SCM = "plastic_scm", "Plastic SCM"
        GITOLITE = "gitolite", "Gitolite"
        PHABRICATOR = "phabricator", "Phabricator"
        PAGURE = "pagure", "Pagure"
        OTHER_GIT = "other_git", "Other Git (generic Git host / src serve-git)"
        JVM_PACKAGES = "jvm_packages", "JVM dependencies"
        GO_MODULES = "go_modules", "Go dependencies"
        NPM_PACKAGES = "npm_packages", "npm dependencies"
        PYTHON_PACKAGES = "python_packages", "Python dependencies"
        RUST_PACKAGES = "rust_packages", "Rust dependencies"
        RUBY_PACKAGES = "ruby_packages", "Ruby dependencies"

    PACKAGE_HOSTS = {
        Kind.JVM_PACKAGES,
        Kind.GO_MODULES,
        Kind.NPM_PACKAGES,
        Kind.PYTHON_PACKAGES,
        Kind.RUST_PACKAGES,
        Kind.RUBY_PACKAGES,
    }

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="code_hosts"
    )
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField("code host", max_length=30, choices=Kind.choices)
    display_name = models.CharField("display name", max_length=200, blank=True)
    url = HttpURLField("URL", max_length=500, blank=True)
    repository_count = models.PositiveIntegerField(
        "number of repositories", validators=_bounded(0, MAX_REPOSITORIES)
    )
    monorepo_count = models.PositiveIntegerField(
        "number of monorepos", default=0, validators=_bounded(0, MAX_MONOREPOS)
    )
    largest_repository_mb = models.PositiveIntegerField(
        "largest repository (MB)",
        null=True,
        blank=True,
        validators=_bounded(1, MAX_REPOSITORY_MB),
    )

    class Meta:
        ordering = ["account", "position", "pk"]

    def __str__(self) -> str:
        return f"code host {self.name}"

    @property
    def name(self) -> str:
        return self.display_name or self.url or self.get_kind_display()

    def clean(self):
        if (
            self.repository_count is not None
            and self.monorepo_count
            and self.monorepo_count > self.repository_count
        ):
            raise ValidationError(
                {"monorepo_count": "There cannot be more monorepos than repositories."}
            )
