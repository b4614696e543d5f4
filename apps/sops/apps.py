from django.apps import AppConfig


class SopsConfig(AppConfig):
    """Standard operating procedures: versions, reviews, publishing and acknowledgements."""

    name = "apps.sops"
    label = "sops"
    verbose_name = "SOPs"
