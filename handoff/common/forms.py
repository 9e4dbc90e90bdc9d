import secrets

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator

from handoff.common.services import (
    INVALID_VERSION_MESSAGE,
    MISSING_SUBMISSION_MESSAGE,
    MISSING_VERSION_MESSAGE,
)
from handoff.common.validators import validate_multi_line_text, validate_single_line_text


class WholeNumberInput(forms.TextInput):
    """A whole number, typed as text with the numeric keypad on phones. Not type="number": a
    browser sends such an input empty when it cannot read what was typed ("1e309", "²", "12 GB"),
    so an optional field would save as blank without a word. As text, the server gets what was
    typed and answers "Enter a whole number." beside the field (GOV.UK's design system advises
    the same)."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "numeric", "autocomplete": "off", **(attrs or {})})


class VersionedFormMixin(forms.Form):
    """Carries the version the form was rendered from, for optimistic concurrency.

    An edit (a form for a saved row) must send it back: without it the form is invalid and
    nothing is saved. A create form has no version to send."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].required = self.version_required()

    def version_required(self) -> bool:
        instance = getattr(self, "instance", None)
        return instance is not None and instance.pk is not None

    def _post_clean(self):
        super()._post_clean()
        # The version is a hidden field: a missing, forged or mangled one must not fail
        # silently, nor hide beside a field nobody sees.
        errors = self._errors.pop("version", None) if self._errors else None
        if errors:
            missing = any(error.code == "required" for error in errors.as_data())
            self.add_error(
                None,
                ValidationError(MISSING_VERSION_MESSAGE, code="missing_version")
                if missing
                else ValidationError(INVALID_VERSION_MESSAGE, code="invalid_version"),
            )

    def expected_version(self) -> int | None:
        """The version posted back; None only on a create form."""
        return self.cleaned_data.get("version")


class VersionForm(VersionedFormMixin):
    """Only the version: for an action on a saved row that has no other fields (a remove)."""

    def version_required(self) -> bool:
        return True


class OnceFormMixin(forms.Form):
    """A create form's one-time token (see common.services.submission_claim): rendered with a
    fresh value, posted back unchanged, claimed when the create is saved."""

    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["submission"].initial = secrets.token_urlsafe(24)

    def clean(self):
        cleaned = super().clean()
        # A hidden field: its error is the form's, not beside a field nobody sees. Edit forms
        # remove the field (their version guards them instead).
        if "submission" in self.fields and not cleaned.get("submission"):
            self.add_error(None, ValidationError(MISSING_SUBMISSION_MESSAGE, code="missing"))
        return cleaned

    def submission_token(self) -> str:
        return self.cleaned_data.get("submission", "")


def plain_text_validator(field: forms.Field):
    """The control-character rule for what people type into `field`, by its widget: a one-line
    input refuses line breaks, tabs and bidi overrides, a textarea only the other control
    characters. None for fields that are not free text (choices, numbers, hidden values)."""
    if not isinstance(field, forms.CharField) or field.widget.is_hidden:
        return None
    if isinstance(field.widget, forms.Textarea):
        return validate_multi_line_text
    return validate_single_line_text


# The longest text a multi-line field takes (characters). An implementation note is the long
# one; a form names its other exceptions in `text_limits`. One-line fields keep the model's
# max_length (200 for a title).
TEXT_LIMIT = 5_000
NOTE_LIMIT = 20_000


def text_limit(field: forms.Field, limit: int) -> None:
    """Bound a multi-line field: the server refuses longer text beside the field, the textarea
    carries `maxlength`, and `data-counter` asks static/js/app.js for a live count."""
    if field.max_length is None or field.max_length > limit:
        field.max_length = limit
    kept = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
    field.validators = [*kept, MaxLengthValidator(field.max_length)]
    field.widget.attrs.update({"maxlength": str(field.max_length), "data-counter": ""})


class PlainTextFormMixin(forms.Form):
    """Every text field of the form refuses control characters, with the message beside it,
    and every multi-line one has a maximum (`TEXT_LIMIT` unless `text_limits` says otherwise).

    Applied when the form is built and again when it is cleaned, so fields a subclass adds or
    swaps in its __init__ are covered too. It replaces Django's own NUL check, which both
    rules include."""

    text_limits: dict[str, int] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_text()

    def _limit_text(self) -> None:
        for name, field in self.fields.items():
            if plain_text_validator(field) is validate_multi_line_text:
                text_limit(field, self.text_limits.get(name, field.max_length or TEXT_LIMIT))

    def full_clean(self):
        self._limit_text()
        for field in self.fields.values():
            validator = plain_text_validator(field)
            if validator is not None and validator not in field.validators:
                kept = [
                    v
                    for v in field.validators
                    if not isinstance(v, ProhibitNullCharactersValidator)
                ]
                field.validators = [*kept, validator]
        super().full_clean()


# The largest id a BigAutoField (settings.DEFAULT_AUTO_FIELD) holds.
MAX_ID = 2**63 - 1


class IdFilterField(forms.IntegerField):
    """A row id in a query string: a positive whole number a database id can be."""

    def __init__(self, **kwargs):
        super().__init__(required=False, min_value=1, max_value=MAX_ID, **kwargs)


class FilterForm(forms.Form):
    """A list page's filters, parsed from its query string (request.GET).

    A value that does not parse or is not one of the choices (a hand-edited or scanned URL,
    "²", 30 nines) is dropped: the list shows as if that filter were not set, never an error
    page. `selector_names` maps a query parameter to the selector's keyword when they differ."""

    selector_names: dict[str, str] = {}

    def __init__(self, data):
        super().__init__(data)
        for field in self.fields.values():
            field.required = False

    def filters(self) -> dict:
        """{selector keyword: value} for every filter, the empty value where it was dropped."""
        self.is_valid()
        return {
            self.selector_names.get(name, name): self.cleaned_data.get(name, field.clean(""))
            for name, field in self.fields.items()
        }
