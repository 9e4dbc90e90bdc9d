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
    # When the person was last saved (a sign-in saves only last_login, so it leaves this alone).
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["first_name", "last_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_implementation_engineer(self) -> bool:
        return self.role == self.Role.IMPLEMENTATION_ENGINEER

    @property
    def is_technical_advisor(self) -> bool:
        return self.role == self.Role.TECHNICAL_ADVISOR

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER
