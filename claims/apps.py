from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "Claimwatch"

    def ready(self):
        from claims import checks, signals  # noqa: F401
        from claims.data_version import watch_curated_data

        watch_curated_data()
