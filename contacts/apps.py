from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self):
        from webhooks.events import register

        for name, label in [
            ("contact.created", _("Contact created")),
            ("contact.updated", _("Contact updated")),
            ("contact.deleted", _("Contact deleted")),
        ]:
            register(name, label)
