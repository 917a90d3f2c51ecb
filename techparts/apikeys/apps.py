from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "techparts.apikeys"
    label = "apikeys"
    verbose_name = "API keys"
