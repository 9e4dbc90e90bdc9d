import secrets

from django import forms


class VersionedFormMixin(forms.Form):
    """Carries the version the form was rendered from, for optimistic concurrency."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def _post_clean(self):
        super()._post_clean()
        # The version is a hidden field: a forged or mangled one must not fail silently.
        if self._errors and self._errors.pop("version", None):
            self.add_error(
                None,
                "This form's version is not valid, so nothing was saved. Reload the page and "
                "make your change again.",
            )

    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")


class OnceFormMixin(forms.Form):
    """A create form's one-time token (see common.services.submission_claim): rendered with a
    fresh value, posted back unchanged, claimed when the create is saved."""

    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["submission"].initial = secrets.token_urlsafe(24)

    def submission_token(self) -> str:
        return self.cleaned_data.get("submission", "")
