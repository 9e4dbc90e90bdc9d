from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    label = "deployments"
    verbose_name = "Deployments"

    def ready(self):
        from deployments.handoff import register_handoff
        from deployments.sections import register_sections

        register_sections()
        # Readiness rules, sizing warnings, snapshot sections and their Markdown.
        register_handoff()
