"""The contact importer (found by the imports app's autodiscovery): contacts matched by external
id, e-mail or phone, linked to a visible account by name or tax number."""

from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from crm.choices import LeadSource
from imports.importers import EXTERNAL_ID, PHONES_TO_CHECK, FieldSpec, Importer, new_instance, register


@register
class ContactImporter(Importer):
    key = "contacts.contact"
    label = gettext_lazy("Contacts")
    custom_target = "contacts.contact"
    match_keys = (EXTERNAL_ID, "email", "phone")
    match_labels = {EXTERNAL_ID: gettext_lazy("same external id"), "email": gettext_lazy("same e-mail"),
                    "phone": gettext_lazy("same phone")}
    derived_fields = ("full_name",)
    PLAIN = {
        "first_name": ("first_name", ""), "middle_name": ("middle_name", ""), "last_name": ("last_name", ""),
        "title": ("title", ""), "department": ("department", ""), "emails": ("emails", []),
        "phones": ("phones", []), PHONES_TO_CHECK: ("phones_to_check", []), "birthday": ("birthday", None),
        "address": ("address", ""), "city": ("city", ""), "region": ("region", ""),
        "postal_code": ("postal_code", ""), "country": ("country", ""), "website": ("website", ""),
        "lead_source": ("lead_source", ""), "tags": ("tags", []), "description": ("description", ""),
        "do_not_call": ("do_not_call", False), "account": ("account_id", None),
    }

    @property
    def model(self):
        from contacts.models import Contact

        return Contact

    def base_fields(self):
        return [
            FieldSpec("last_name", _("Last name"), max_length=100, required=True,
                      aliases=("surname", "family name", "фамилия", "last name", "lastname")),
            FieldSpec("first_name", _("First name"), max_length=100,
                      aliases=("name", "given name", "firstname", "имя", "first name")),
            FieldSpec("middle_name", _("Middle name / patronymic"), max_length=100,
                      aliases=(_("Middle name"), "middle name", "patronymic", "отчество")),
            FieldSpec("title", _("Job title"), max_length=150,
                      aliases=("title", "position", "job title", "должность", "позиция")),
            FieldSpec("department", _("Department"), max_length=150, aliases=("отдел", "подразделение")),
            FieldSpec("emails", _("E-mail"), "emails", multiple=True,
                      aliases=(_("E-mails"), "e-mails", "emails", "email", "e-mail", "e mail", "mail", "email address",
                               "e-mail 2", "email 2", "почта", "эл. почта", "эл почта", "электронная почта", "емейл",
                               "e-mail адрес")),
            FieldSpec("phones", _("Phone"), "phones", multiple=True,
                      aliases=(_("Phones"), "phones", _("Numbers to check"), "phone", "phone number", "telephone",
                               "mobile", "tel", "work phone", "телефон", "моб. телефон", "мобильный",
                               "мобильный телефон", "рабочий телефон",
                               "тел")),
            FieldSpec("birthday", _("Birthday"), "date", aliases=("date of birth", "дата рождения", "день рождения")),
            FieldSpec("address", _("Street address"), aliases=(_("Address"), "address", "street", "адрес", "улица")),
            FieldSpec("city", _("City"), max_length=100, aliases=("town", "город", "населённый пункт", "місто")),
            FieldSpec("region", _("Region"), max_length=100,
                      aliases=("state", "county", "province", "регион", "область", "край")),
            FieldSpec("postal_code", _("Postal code"), max_length=20,
                      aliases=("postcode", "zip", "zip code", "индекс", "почтовый индекс", "поштовий індекс")),
            FieldSpec("country", _("Country"), max_length=100, aliases=("страна", "країна")),
            FieldSpec("website", _("Website"), "url", max_length=200,
                      aliases=("web", "url", "site", "сайт", "веб-сайт")),
            FieldSpec("lead_source", _("Lead source"), "choice", choices=tuple(LeadSource.choices),
                      aliases=("source", "источник")),
            FieldSpec("tags", _("Tags"), "tags", multiple=True, aliases=("теги", "метки")),
            FieldSpec("description", _("Notes"), aliases=(_("Notes"), "notes", "comment", "комментарий", "примечание",
                                                          "заметки", "description")),
            FieldSpec("do_not_call", _("Do not call"), "bool", aliases=("не звонить",)),
            FieldSpec("account_name", _("Account (by name)"), "ref", max_length=200,
                      aliases=(_("Account"), "account", "company", "organisation", "organization", "компания",
                               "организация", "клиент", "контрагент")),
            FieldSpec("account_tax", _("Account (by tax number)"), "ref", max_length=40,
                      aliases=(_("Account tax number"), "tax number", "inn", "vat number", "инн", "account tax number",
                               "инн компании")),
        ]

    def _accounts_matching(self, user, taxes: set[str], names: set[str]):
        """Visible accounts by tax number and by lower-cased name, and the tax numbers and names
        of live accounts the user may not see (never duplicated by an import)."""
        from accounts.models import Account

        by_name: dict[str, list[tuple[int, str]]] = {}
        by_tax: dict[str, list[int]] = {}
        visible = Account.objects.visible_to(user)
        if names:
            for pk, name, tax in visible.annotate(lname=Lower("name")).filter(lname__in=names).values_list(
                    "pk", "lname", "tax_number"):
                by_name.setdefault(name, []).append((pk, tax))
        if taxes:
            for pk, tax in visible.filter(tax_number__in=taxes).values_list("pk", "tax_number"):
                by_tax.setdefault(tax, []).append(pk)
        hidden_taxes, hidden_names = set(), set()
        if self._create_accounts:
            live = Account.objects.filter(deleted_at__isnull=True)
            missing_taxes, missing_names = taxes - by_tax.keys(), names - by_name.keys()
            if missing_taxes:
                hidden_taxes = set(live.filter(tax_number__in=missing_taxes).values_list("tax_number", flat=True))
            if missing_names:
                hidden_names = set(live.annotate(lname=Lower("name")).filter(lname__in=missing_names)
                                   .values_list("lname", flat=True))
        return by_tax, by_name, hidden_taxes, hidden_names

    def _account_decision(self, tax: str, name: str, by_tax, by_name, hidden_taxes, hidden_names):
        """("link", pk), ("create", key) or ("error", message) for one row's organisation: matched by
        tax number, then by name (an account with another tax number is another company); a
        missing one is created when the job says so; the duplicate policy "create anyway" creates
        one account per organisation of the file even when one exists."""
        from imports.models import DuplicatePolicy

        key = ("tax", tax) if tax else ("name", name.lower())
        if self._create_accounts and self._policy == DuplicatePolicy.CREATE:
            return "create", key
        ids = by_tax.get(tax, []) if tax else []
        if not ids and name:
            ids = [pk for pk, their_tax in by_name.get(name.lower(), []) if not tax or their_tax in ("", tax)]
        if len(ids) == 1:
            return "link", ids[0]
        if len(ids) > 1:
            return "error", (_("Several accounts have the tax number “%(tax)s”.") % {"tax": tax} if tax else
                             _("Several accounts are named “%(name)s”: link by tax number.") % {"name": name})
        if self._create_accounts:
            if (tax and tax in hidden_taxes) or (not tax and name.lower() in hidden_names):
                return "error", _("The account “%(account)s” belongs to someone else: ask its owner to share "
                                  "it.") % {"account": tax or name}
            return "create", key
        return "error", (_("No account you can see has the tax number “%(tax)s”.") % {"tax": tax} if tax else
                         _("No account you can see is named “%(name)s”.") % {"name": name})

    def resolve(self, outcomes, user):
        from accounts.services import account_create

        names = {o.values["account_name"].lower() for o in outcomes if o.values.get("account_name")}
        taxes = {o.values["account_tax"] for o in outcomes if o.values.get("account_tax")}
        if not names and not taxes:
            return
        matches = self._accounts_matching(user, taxes, names)
        decisions, new_names = [], {}
        # A row may give only the INN: its organisation's name comes from another row with that INN.
        name_of_tax = {}
        for outcome in outcomes:
            if outcome.values.get("account_tax") and outcome.values.get("account_name"):
                name_of_tax.setdefault(outcome.values["account_tax"], outcome.values["account_name"])
        for outcome in outcomes:
            tax, name = outcome.values.get("account_tax") or "", outcome.values.get("account_name") or ""
            if not tax and not name:
                continue
            name = name or name_of_tax.get(tax, "")
            decision, value = self._account_decision(tax, name, *matches)
            decisions.append((outcome, decision, value))
            if decision == "create" and not new_names.get(value):
                new_names[value] = name or _("Tax number %(tax)s") % {"tax": tax}
        created: dict[tuple[str, str], int] = {}
        for outcome, decision, value in decisions:
            if decision == "error":
                outcome.errors.append(value)
            elif decision == "link":
                outcome.values["account"] = value
            else:
                if value not in created:  # one new account per organisation of the batch
                    tax = value[1] if value[0] == "tax" else ""
                    account = account_create(actor=user, name=new_names[value][:200], tax_number=tax)
                    created[value] = account.pk
                    self.accounts_created.append(account.pk)
                outcome.values["account"] = created[value]

    def plan(self, job, rows) -> list[str]:
        """The preview's lines about the whole file: how many accounts the import will create."""
        if not self._create_accounts:
            return []
        columns = {key: int(index) for index, key in (job.mapping or {}).items()
                   if key in ("account_name", "account_tax")}
        if not columns:
            return []
        organisations: dict[tuple[str, str], tuple[str, str]] = {}
        for cells in rows:
            tax, name = (cells[columns[key]].strip() if key in columns and columns[key] < len(cells) else ""
                         for key in ("account_tax", "account_name"))
            if tax or name:
                key = ("tax", tax) if tax else ("name", name.lower())
                if not organisations.get(key, ("", ""))[1]:
                    organisations[key] = (tax, name)
        taxes = {tax for tax, _name in organisations.values() if tax}
        names = {name.lower() for _tax, name in organisations.values() if name}
        matches = self._accounts_matching(job.user, taxes, names)
        new = sum(1 for tax, name in organisations.values()
                  if self._account_decision(tax, name, *matches)[0] == "create")
        if not new:
            return []
        return [ngettext("%(count)s account will be created.", "%(count)s accounts will be created.", new)
                % {"count": new}]

    def keys_of(self, values):
        keys = super().keys_of(values)
        keys += [("email", e) for e in values.get("emails") or ()]
        keys += [("phone", p) for p in values.get("phones") or ()]
        return keys

    def lookup(self, name, values):
        """Live or not (checked next), any owner. The array goes in through a sub-select so the planner
        cannot see its 1,000 elements: given them as a constant it estimates a large share of the table
        and scans all of it (~0.3 s at 20k rows), while the GIN index answers in milliseconds."""
        from django.db import connection

        quote = connection.ops.quote_name
        field = self.model._meta.get_field({"email": "emails", "phone": "phones"}[name])
        sql = (f"SELECT {quote(self.model._meta.pk.column)}, {quote(field.column)} "  # noqa: S608 - identifiers
               f"FROM {quote(self.model._meta.db_table)} "
               f"WHERE {quote(field.column)} && (SELECT %s::{field.db_type(connection)})")
        wanted = set(values)
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(values)])
            for pk, stored in cursor.fetchall():
                for value in stored:
                    if value in wanted:
                        yield value, pk

    def build(self, values, user):
        obj = new_instance(self.model, owner_id=user.pk, team_id=user.team_id)
        self._set_fields(obj, values, self.PLAIN, creating=True, clear_empty=False, previous={})
        self.finalise(obj)
        return obj

    def apply(self, obj, values, *, clear_empty):
        previous = {}
        self._set_fields(obj, values, self.PLAIN, creating=False, clear_empty=clear_empty, previous=previous)
        if not obj.last_name:  # a contact always keeps a last name
            obj.last_name = previous.pop("last_name", obj.last_name)
        self.finalise(obj)
        return previous

    def finalise(self, obj):
        obj.full_name = obj.compose_full_name()
