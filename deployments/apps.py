from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    label = "deployments"
    verbose_name = "Deployments"

    def ready(self):
        from deployments.contribution import DEPLOYMENTS
        from handoff import registry

        registry.register(DEPLOYMENTS)
