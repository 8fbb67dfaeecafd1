from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Modules plug into the core from files with these names (each registers itself when imported):
# panels.py (record-page panels, crm/panels.py), handover.py (what a hand-over moves, crm/handover.py),
# hooks.py (what a module does when another's records change, crm/hooks.py),
# widgets.py (blocks on the home page, crm/widgets_home.py).
PLUG_IN_MODULES = ("panels", "handover", "hooks", "home")


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM core")

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from crm import signals  # noqa: F401 - connect receivers

        autodiscover_modules(*PLUG_IN_MODULES)
