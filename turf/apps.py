from django.apps import AppConfig


class TurfConfig(AppConfig):
    name = "turf"
    verbose_name = "Geography and turfs"
    default_auto_field = "django.db.models.BigAutoField"
