from django.apps import AppConfig


class CloseoutConfig(AppConfig):
    name = "handoff.closeout"
    label = "closeout"
    verbose_name = "Closeout and handoff"

    def ready(self) -> None:
        # The core's own contributions to the registries that deployments, logs and
        # vitally_sync also fill (readiness rules, attention items, snapshot sections, the
        # account-page section).
        from handoff.closeout import contributions

        contributions.register_all()
