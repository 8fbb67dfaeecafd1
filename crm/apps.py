from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Modules plug into the core from files with these names (each registers itself when imported):
# lists.py (list pages, crm/lists.py; saved views find their page there), panels.py (record-page and
# "my day" panels, crm/panels.py), handover.py (what a hand-over moves, crm/handover.py), hooks.py
# (what a module does when another's records change, crm/hooks.py), search.py (global search
# providers, crm/search.py), duplicates.py (duplicate checks of its forms, crm/duplicates.py),
# calendar_sources.py (entries on the calendar from modules below activities, crm/calendar.py),
# background.py (background work shown to admins, crm/background.py).
PLUG_IN_MODULES = ("lists", "panels", "search", "duplicates", "handover", "hooks", "calendar_sources", "background")


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM core")

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        # Connect receivers and register the scheduler sources.
        from crm import background, jobs, outbox, partitions, signals  # noqa: F401

        autodiscover_modules(*PLUG_IN_MODULES)
