from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from handoff.common.models import PlainTextModel


class User(PlainTextModel, AbstractUser):
    """A member of Customer Engineering. `role` says which part of the handoff they play;
    `is_staff` makes someone an admin of the portal, whatever their role."""

    class Role(models.TextChoices):
        IMPLEMENTATION_ENGINEER = "ie", "Implementation Engineer"
        TECHNICAL_ADVISOR = "ta", "Technical Advisor"
        MANAGER = "manager", "Manager"

    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    # An admin's say-so that this person, made before sign-in with SSO, is the one the identity
    # provider vouches for with the same verified e-mail: their first SSO sign-in becomes this
    # person (records, history) instead of a new one. Never by e-mail alone (people/services.py).
    sso_claim_allowed = models.BooleanField(
        "May claim this person at their first sign-in with SSO",
        default=False,
        help_text="Their first sign-in with SSO, with this e-mail address verified by the "
        "identity provider, signs in as this person (and keeps their records) instead of "
        "creating a new one. Cleared once used.",
    )
    # When the person was last saved (a sign-in saves only last_login, so it leaves this alone).
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["first_name", "last_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def password_change_allowed(self) -> bool:
        """Whether this person signs in with a password of their own (not those created by SSO;
        with LOCAL_LOGIN off, only superusers)."""
        return self.has_usable_password() and (settings.LOCAL_LOGIN or self.is_superuser)

    @property
    def is_implementation_engineer(self) -> bool:
        return self.role == self.Role.IMPLEMENTATION_ENGINEER

    @property
    def is_technical_advisor(self) -> bool:
        return self.role == self.Role.TECHNICAL_ADVISOR

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER


class SsoIdentity(models.Model):
    """Who a person is at the company's identity provider: the token's issuer and `sub`, which
    never change, unlike a user name or an e-mail address. Sign-in with SSO finds the person by
    these two alone; the first sign-in creates the person and this row."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sso_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SSO identity"
        verbose_name_plural = "SSO identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
