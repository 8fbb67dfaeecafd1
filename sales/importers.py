"""The sales importers (found by the imports app's autodiscovery): the product catalogue, matched
by SKU, and leads. Leads imported without an owner join the importer's team queue and go through
the distribution rules at once."""

import re

from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.choices import LeadSource
from imports.importers import EXTERNAL_ID, FieldSpec, Importer, cached_phone, new_instance, register


@register
class ProductImporter(Importer):
    """The product catalogue: the SKU is the match key (update or create)."""

    key = "sales.product"
    label = gettext_lazy("Products")
    match_keys = (EXTERNAL_ID, "sku")
    match_labels = {EXTERNAL_ID: gettext_lazy("same external id"), "sku": gettext_lazy("same SKU")}
    PLAIN = {
        "sku": ("sku", ""), "name": ("name", ""), "family": ("family", ""), "unit": ("unit", "pcs"),
        "description": ("description", ""), "default_price": ("default_price", None),
        "currency": ("currency", None), "tax_rate": ("tax_rate", None), "active": ("active", True),
    }

    @property
    def model(self):
        from sales.models import Product

        return Product

    def base_fields(self):
        return [
            FieldSpec("sku", _("SKU"), max_length=60, required=True,
                      aliases=("sku", "article", "item code", "product code", "part number", "артикул", "код товара")),
            FieldSpec("name", _("Name"), max_length=200, required=True,
                      aliases=("product", "product name", "название", "наименование", "товар", "назва")),
            FieldSpec("family", _("Family"), max_length=100, aliases=("category", "group", "категория", "группа")),
            FieldSpec("unit", _("Unit"), max_length=30, aliases=("uom", "единица", "ед. изм", "ед изм")),
            FieldSpec("default_price", _("Default price"), "decimal",
                      aliases=("price", "list price", "unit price", "цена", "ціна")),
            FieldSpec("currency", _("Currency"), max_length=3, aliases=("валюта",)),
            FieldSpec("tax_rate", _("Tax rate, %"), "decimal", aliases=("tax", "tax rate", "vat", "vat %", "ндс")),
            FieldSpec("active", _("Active"), "bool", aliases=("активен", "active flag")),
            FieldSpec("description", _("Description"), aliases=("описание", "опис", "notes")),
        ]

    def parse(self, outcome, columns):
        super().parse(outcome, columns)
        values = outcome.values
        if values.get("currency"):
            values["currency"] = values["currency"].upper()
            if not re.fullmatch(r"[A-Z]{3}", values["currency"]):
                outcome.errors.append(_("Currency: use a three-letter ISO 4217 code, e.g. EUR."))
        price = values.get("default_price")
        if price is not None and not (0 <= price < 10**14):
            outcome.errors.append(_("Default price: must be zero or more, and not that large."))
        tax = values.get("tax_rate")
        if tax is not None and not (0 <= tax <= 100):
            outcome.errors.append(_("Tax rate: between 0 and 100."))

    def keys_of(self, values):
        keys = super().keys_of(values)
        if values.get("sku"):
            keys.append(("sku", values["sku"]))
        return keys

    def lookup(self, name, values):
        if name != "sku":
            return []
        return self.model._default_manager.filter(deleted_at__isnull=True, sku__in=values).values_list("sku", "pk")

    def build(self, values, user):
        obj = self.model()
        self._set_fields(obj, values, self.PLAIN, creating=True, clear_empty=False, previous={})
        return obj

    def apply(self, obj, values, *, clear_empty):
        previous = {}
        self._set_fields(obj, values, self.PLAIN, creating=False, clear_empty=clear_empty, previous=previous)
        for required in ("sku", "name", "unit"):
            if not getattr(obj, required):
                setattr(obj, required, previous.pop(required, getattr(obj, required)))
        for number in ("default_price", "tax_rate", "currency"):
            if getattr(obj, number) is None:
                setattr(obj, number, previous.pop(number))
        return previous


@register
class LeadImporter(Importer):
    key = "sales.lead"
    label = gettext_lazy("Leads")
    custom_target = "sales.lead"
    match_keys = (EXTERNAL_ID, "email", "phone")
    match_labels = {EXTERNAL_ID: gettext_lazy("same external id"), "email": gettext_lazy("same e-mail"),
                    "phone": gettext_lazy("same phone")}
    derived_fields = ("phone_e164",)
    PLAIN = {
        "first_name": ("first_name", ""), "last_name": ("last_name", ""), "title": ("title", ""),
        "company": ("company", ""), "email": ("email", ""), "phone": ("phone", ""), "website": ("website", ""),
        "country": ("country", ""), "city": ("city", ""), "source": ("source", ""),
        "rating": ("rating", ""), "description": ("description", ""), "owner": ("owner_id", None),
    }

    @property
    def model(self):
        from sales.models import Lead

        return Lead

    def base_fields(self):
        from sales.models import LeadRating

        return [
            FieldSpec("last_name", _("Last name"), max_length=100, required=True,
                      aliases=("surname", "family name", "фамилия", "last name", "lastname")),
            FieldSpec("first_name", _("First name"), max_length=100,
                      aliases=("name", "given name", "firstname", "имя", "first name")),
            FieldSpec("title", _("Job title"), max_length=150, aliases=("title", "position", "должность")),
            FieldSpec("company", _("Company"), max_length=200,
                      aliases=("company", "company name", "organisation", "organization", "компания", "организация")),
            FieldSpec("email", _("E-mail"), "email",
                      aliases=("email", "e-mail", "mail", "email address", "почта", "эл. почта", "электронная почта")),
            FieldSpec("phone", _("Phone"), "phone", max_length=40,
                      aliases=("phone", "telephone", "mobile", "tel", "телефон", "тел", "мобильный")),
            FieldSpec("website", _("Website"), "url", aliases=("site", "web", "url", "сайт")),
            FieldSpec("country", _("Country"), max_length=100, aliases=("страна",)),
            FieldSpec("city", _("City"), max_length=100, aliases=("город",)),
            FieldSpec("source", _("Source"), "choice", choices=tuple(LeadSource.choices),
                      aliases=("lead source", "источник")),
            FieldSpec("rating", _("Rating"), "choice", choices=tuple(LeadRating.choices), aliases=("рейтинг",)),
            FieldSpec("description", _("Notes"), aliases=("notes", "comment", "комментарий", "примечание")),
            FieldSpec("owner_email", _("Owner (e-mail)"), "ref", max_length=254,
                      aliases=("owner", "owner email", "ответственный")),
        ]

    _owner_teams: dict

    def __init__(self):
        self._owner_teams = {}

    def resolve(self, outcomes, user):
        """The owner by e-mail, among the people the importer may assign records to."""
        from crm.visibility import assignable_owners

        wanted = {o.values["owner_email"].strip().lower() for o in outcomes if o.values.get("owner_email")}
        people = {}
        if wanted:
            for email, pk, team_id in (assignable_owners(user).annotate(lemail=Lower("email"))
                                       .filter(lemail__in=wanted).values_list("lemail", "pk", "team_id")):
                people[email] = pk
                self._owner_teams[pk] = team_id
        for outcome in outcomes:
            email = (outcome.values.get("owner_email") or "").strip().lower()
            if not email:
                continue
            if email not in people:
                outcome.errors.append(_("“%(email)s” is not someone you may assign leads to.") % {"email": email})
                continue
            outcome.values["owner"] = people[email]

    def keys_of(self, values):
        keys = super().keys_of(values)
        if values.get("email"):
            keys.append(("email", values["email"]))
        if values.get("phone"):
            keys.append(("phone", cached_phone(values["phone"])))
        return keys

    def lookup(self, name, values):
        rows = self.model._default_manager.filter(deleted_at__isnull=True)
        if name == "email":
            return rows.annotate(lemail=Lower("email")).filter(lemail__in=values).values_list("lemail", "pk")
        return rows.filter(phone_e164__in=values).values_list("phone_e164", "pk")

    def build(self, values, user):
        obj = new_instance(self.model, owner_id=None, team_id=user.team_id, source=LeadSource.IMPORT)
        self._set_fields(obj, values, self.PLAIN, creating=True, clear_empty=False, previous={})
        if obj.owner_id is not None:
            obj.team_id = self._owner_teams.get(obj.owner_id)
        self.finalise(obj)
        return obj

    def apply(self, obj, values, *, clear_empty):
        previous = {}
        team_before = obj.team_id
        self._set_fields(obj, values, self.PLAIN, creating=False, clear_empty=clear_empty, previous=previous)
        if not obj.last_name:  # a lead always keeps a last name
            obj.last_name = previous.pop("last_name", obj.last_name)
        if "owner_id" in previous:
            if obj.owner_id is None:  # an empty owner cell never takes a lead away from its owner
                obj.owner_id = previous.pop("owner_id")
            else:
                obj.team_id = self._owner_teams.get(obj.owner_id)
                if obj.team_id != team_before:
                    previous["team_id"] = team_before
        self.finalise(obj)
        return previous

    def finalise(self, obj):
        obj.phone_e164 = (cached_phone(obj.phone) or "") if obj.phone else ""

    def process_batch(self, job, batch, *, write, parsed=None):
        outcomes = super().process_batch(job, batch, write=write, parsed=parsed)
        if write:
            from imports.models import RowAction
            from sales.lead_services import leads_distribute

            queued = [o.obj for o in outcomes if o.action == RowAction.CREATED and o.obj.owner_id is None]
            if queued:
                leads_distribute(leads=queued, actor=job.user)
        return outcomes
