from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    label = "deployments"
    verbose_name = "Deployments"

    def ready(self):
        from deployments.sections import register_sections

        register_sections()
