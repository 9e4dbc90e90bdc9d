from django.apps import AppConfig


class VitallySyncConfig(AppConfig):
    name = "vitally_sync"
    label = "vitally_sync"
    verbose_name = "Vitally sync"

    def ready(self) -> None:
        from handoff import registry
        from handoff.accounts.signals import account_changed
        from vitally_sync import checks  # noqa: F401  (registers the settings check)
        from vitally_sync.contribution import VITALLY
        from vitally_sync.receivers import account_changed_kick

        account_changed.connect(account_changed_kick, dispatch_uid="vitally_sync.kick")
        registry.register(VITALLY)
        self._ready_mirror()

    def _ready_mirror(self) -> None:
        """The accounts mirror: a link checks and records what Vitally already holds."""
        from handoff.accounts.signals import account_linking
        from vitally_sync.linking import account_linking_check

        account_linking.connect(account_linking_check, dispatch_uid="vitally_sync.linking")
