from django.apps import AppConfig


class CloseoutConfig(AppConfig):
    name = "handoff.closeout"
    label = "closeout"
    verbose_name = "Closeout and handoff"

    def ready(self) -> None:
        from handoff import registry
        from handoff.closeout.contributions import ACCOUNT, CLOSEOUT

        registry.register(ACCOUNT)
        registry.register(CLOSEOUT)
