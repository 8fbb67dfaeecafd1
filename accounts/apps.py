from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from webhooks.events import register

        for name, label in [
            ("account.created", _("Account created")),
            ("account.updated", _("Account updated")),
            ("account.deleted", _("Account deleted")),
        ]:
            register(name, label)
