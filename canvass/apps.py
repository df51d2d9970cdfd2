from django.apps import AppConfig


class CanvassConfig(AppConfig):
    name = "canvass"
    verbose_name = "Canvassing"
    default_auto_field = "django.db.models.BigAutoField"
