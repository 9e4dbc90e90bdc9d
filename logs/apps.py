from django.apps import AppConfig


class LogsConfig(AppConfig):
    name = "logs"
    label = "logs"
    verbose_name = "Implementation logs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from handoff import registry
        from logs.contribution import LOGS

        registry.register(LOGS)
