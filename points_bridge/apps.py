from django.apps import AppConfig


class PointsBridgeConfig(AppConfig):
    name = "points_bridge"
    default_auto_field = "django.db.models.BigAutoField"
