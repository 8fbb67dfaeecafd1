"""The account importer (found by the imports app's autodiscovery): accounts matched by external
id, tax number, e-mail or phone."""

from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.choices import LeadSource
from imports.importers import EXTERNAL_ID, FieldSpec, Importer, cached_phone, register


@register
class AccountImporter(Importer):
    key = "accounts.account"
    label = gettext_lazy("Accounts")
    custom_target = "accounts.account"
    match_keys = (EXTERNAL_ID, "tax", "email", "phone")
    match_labels = {EXTERNAL_ID: gettext_lazy("same external id"), "tax": gettext_lazy("same tax number"),
                    "email": gettext_lazy("same e-mail"), "phone": gettext_lazy("same phone")}
    derived_fields = ("phone_e164",)
    PLAIN = {
        "name": ("name", ""), "legal_name": ("legal_name", ""), "tax_number": ("tax_number", ""),
        "type": ("type", None), "industry": ("industry", ""), "phone": ("phone", ""), "email": ("email", ""),
        "website": ("website", ""), "country": ("country", ""), "city": ("city", ""), "address": ("address", ""),
        "shipping_address": ("shipping_address", ""), "annual_revenue": ("annual_revenue", None),
        "employees": ("employees", None), "lead_source": ("lead_source", ""), "tags": ("tags", []),
        "description": ("description", ""), "is_vip": ("is_vip", False), "tier": ("tier", ""),
    }

    @property
    def model(self):
        from accounts.models import Account

        return Account

    def base_fields(self):
        from accounts.models import AccountTier, AccountType

        return [
            FieldSpec("name", _("Name"), max_length=200, required=True,
                      aliases=(_("Company name"), "company", "account", "account name", "company name", "название",
                               "компания", "наименование", "организация")),
            FieldSpec("legal_name", _("Legal name"), max_length=300,
                      aliases=("полное наименование", "юридическое название", "юр. название")),
            FieldSpec("tax_number", _("Tax number"), max_length=40,
                      aliases=("inn", "vat", "vat number", "tax id", "инн", "унп", "ідентифікаційний код")),
            FieldSpec("type", _("Type"), "choice", choices=tuple(AccountType.choices), aliases=("тип",)),
            FieldSpec("tier", _("Tier"), "choice", choices=tuple(AccountTier.choices), aliases=("уровень",)),
            FieldSpec("industry", _("Industry"), max_length=100, aliases=("отрасль", "сфера")),
            FieldSpec("phone", _("Phone"), "phone", max_length=40, aliases=("telephone", "телефон", "тел")),
            FieldSpec("email", _("E-mail"), "email",
                      aliases=("email", "e-mail", "mail", "почта", "эл. почта", "электронная почта")),
            FieldSpec("website", _("Website"), "url", aliases=("site", "web", "url", "сайт")),
            FieldSpec("country", _("Country"), max_length=100, aliases=("страна",)),
            FieldSpec("city", _("City"), max_length=100, aliases=("город",)),
            FieldSpec("address", _("Billing address"), aliases=("address", "адрес", "юридический адрес")),
            FieldSpec("shipping_address", _("Shipping address"), aliases=("адрес доставки",)),
            FieldSpec("annual_revenue", _("Annual revenue"), "decimal", aliases=("revenue", "выручка", "оборот")),
            FieldSpec("employees", _("Employees"), "int", aliases=("сотрудники", "численность", "staff")),
            FieldSpec("lead_source", _("Lead source"), "choice", choices=tuple(LeadSource.choices),
                      aliases=("source", "источник")),
            FieldSpec("tags", _("Tags"), "tags", multiple=True, aliases=("теги", "метки")),
            FieldSpec("description", _("Description"), aliases=("notes", "comment", "комментарий", "примечание")),
            FieldSpec("is_vip", _("VIP"), "bool", aliases=("vip",)),
        ]

    def parse(self, outcome, columns):
        super().parse(outcome, columns)
        if outcome.values.get("annual_revenue") is not None and abs(outcome.values["annual_revenue"]) >= 10**14:
            outcome.errors.append(_("Annual revenue: too large."))
        elif outcome.values.get("annual_revenue") is not None and outcome.values["annual_revenue"] < 0:
            outcome.errors.append(_("Annual revenue cannot be negative."))

    def keys_of(self, values):
        keys = super().keys_of(values)
        if values.get("tax_number"):
            keys.append(("tax", values["tax_number"]))
        if values.get("email"):
            keys.append(("email", values["email"]))
        if values.get("phone"):
            keys.append(("phone", cached_phone(values["phone"])))
        return keys

    def lookup(self, name, values):
        rows = self.model._default_manager.filter(deleted_at__isnull=True)
        if name == "tax":
            return rows.filter(tax_number__in=values).values_list("tax_number", "pk")
        if name == "email":
            return rows.annotate(lemail=Lower("email")).filter(lemail__in=values).values_list("lemail", "pk")
        return rows.filter(phone_e164__in=values).values_list("phone_e164", "pk")

    def build(self, values, user):
        obj = self.model(owner=user, team_id=user.team_id)
        self._set_fields(obj, values, self.PLAIN, creating=True, clear_empty=False, previous={})
        self.finalise(obj)
        return obj

    def apply(self, obj, values, *, clear_empty):
        previous = {}
        self._set_fields(obj, values, self.PLAIN, creating=False, clear_empty=clear_empty, previous=previous)
        if not obj.name:
            obj.name = previous.pop("name", obj.name)
        if obj.type is None:
            obj.type = previous.pop("type", obj.type)
        self.finalise(obj)
        return previous

    def finalise(self, obj):
        obj.phone_e164 = cached_phone(obj.phone) or "" if obj.phone else ""
