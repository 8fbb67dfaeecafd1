from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("Imports")

    def ready(self):
        # Each app registers its importers in its own `importers.py` (accounts/importers.py…).
        from django.utils.module_loading import autodiscover_modules

        from imports import services, tasks  # noqa: F401 - register the job kind (crm/jobs.py), the scheduler source

        autodiscover_modules("importers")
