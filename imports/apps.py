from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("Imports")

    def ready(self):
        # Our own importers (accounts, contacts), then every app's `importers.py` (leads, products…).
        from django.utils.module_loading import autodiscover_modules

        from imports import importers, tasks  # noqa: F401 - registers importers and the scheduler source

        autodiscover_modules("importers")
