from django.apps import AppConfig


class LogsConfig(AppConfig):
    name = "logs"
    label = "logs"
    verbose_name = "Implementation logs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from logs.handoff import register_handoff
        from logs.sections import register_log_sections

        register_log_sections()
        # Readiness rules, attention items, snapshot sections and their Markdown.
        register_handoff()
