from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from handoff.common.models import VersionedModel
from handoff.common.validators import HttpURLField
from handoff.people.models import User

vitally_id_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
    "Use the id or externalId exactly as Vitally shows it: letters, digits, '-', '_', '.', ':'.",
)


def _active(role: str) -> dict:
    """Who may be assigned to a role's place: an active person of that role. Forms (the portal's
    and the admin's) offer only them, and the services' validation refuses anyone else."""
    return {"role": role, "is_active": True}


class Account(VersionedModel):
    """A customer whose Sourcegraph deployment Customer Engineering implements and hands off."""

    class Phase(models.TextChoices):
        IMPLEMENTATION = "implementation", "Implementation"
        READY_FOR_HANDOFF = "ready_for_handoff", "Handoff requested"
        HANDED_OFF = "handed_off", "Handed off"

    name = models.CharField("account name", max_length=200, unique=True)
    vitally_account_id = models.CharField(
        "Vitally account id",
        max_length=100,
        blank=True,
        validators=[vitally_id_validator],
        help_text="The account's id or externalId in Vitally. Leave empty to keep it unlinked.",
    )
    crm_url = HttpURLField("CRM link", max_length=500, blank=True)
    implementation_engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="implementation engineer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accounts_implementing",
        limit_choices_to=_active(User.Role.IMPLEMENTATION_ENGINEER),
    )
    technical_advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="technical advisor",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accounts_advising",
        limit_choices_to=_active(User.Role.TECHNICAL_ADVISOR),
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="manager",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accounts_managing",
        limit_choices_to=_active(User.Role.MANAGER),
    )
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.IMPLEMENTATION)
    planned_completion_date = models.DateField("planned completion date", null=True, blank=True)
    # Rises with every change to the account or any record under it, in the same transaction.
    # The Vitally sync pushes while this is ahead of the version Vitally last acknowledged.
    change_version = models.PositiveBigIntegerField(default=1, editable=False)
    changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["vitally_account_id"],
                condition=~Q(vitally_account_id=""),
                name="account_vitally_id_unique_when_set",
                violation_error_message="Another account is already linked to this Vitally id.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:detail", args=[self.pk])
