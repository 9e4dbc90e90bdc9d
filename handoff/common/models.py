from django.db import models


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(TimestampedModel):
    """A row edited through forms: `version` rises with every save, so a form rendered from an
    older version is refused instead of silently overwriting someone else's change."""

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True
