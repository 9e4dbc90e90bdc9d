from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from handoff.common.validators import validate_multi_line_text, validate_single_line_text


class PlainTextModel(models.Model):
    """Text columns refuse control characters whoever writes them (a service, the admin, a
    seed): a CharField is one line, a TextField may hold line breaks and tabs. The same rules
    as the forms' (PlainTextFormMixin), which show the message first."""

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None):
        errors = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for field in self._meta.concrete_fields:
            if field.name in errors or (exclude and field.name in exclude):
                continue
            if isinstance(field, models.TextField):
                validator = validate_multi_line_text
            elif isinstance(field, models.CharField):
                validator = validate_single_line_text
            else:
                continue
            try:
                validator(getattr(self, field.attname))
            except ValidationError as error:
                errors[field.name] = error.error_list
        if errors:
            raise ValidationError(errors)


class TimestampedModel(PlainTextModel):
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


class SubmissionToken(models.Model):
    """A create form's one-time token, claimed in the same transaction as what the form creates:
    the same POST sent twice (a double click, a refresh, back and resubmit) creates one row."""

    token = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.token
