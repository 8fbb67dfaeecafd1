"""The ticket importer (found by the imports app's autodiscovery): tickets from another help desk or a
spreadsheet, through the same pages as contacts (mapping, preview, duplicates, row errors, undo).

A new ticket is opened as the desk opens one: numbered (gap-free, only when the batch is written), routed
to the queue that takes its category unless the file names one, with the contract in force and the SLA
policy for its priority and tier, its clock started from the "Opened" date. An imported ticket that is
already solved (resolved or closed) keeps no SLA clock: the previous desk's figures are not known. Without
an assignee the ticket waits in its queue (imports assign nobody by round robin: a file of 5,000 old tickets
would otherwise bury the agents).

Duplicates are matched by external id or by our own ticket number; an update changes the subject,
description, channel, category, product, tags and custom fields. Priority, status, customer, queue and
assignee of an existing ticket change on the ticket page, where the SLA clock and notifications follow.
"""

from datetime import datetime, time

from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from imports.importers import EXTERNAL_ID, FieldSpec, Importer, register
from service.forms import TICKET_CUSTOM_FIELDS

SOLVED = ("resolved", "closed")


def _choices(choices, english: dict) -> tuple:
    """The choices by stored value and by name in English, Russian and Ukrainian, whatever the importer's own
    language: a file written by another desk still reads."""
    named = [(value, label) for value, label in english.items()]
    for language in ("ru", "uk"):
        with translation.override(language):
            named += [(value, str(label)) for value, label in choices]
    return (*choices, *named)


@register
class TicketImporter(Importer):
    key = "service.ticket"
    label = gettext_lazy("Tickets")
    custom_target = TICKET_CUSTOM_FIELDS
    match_keys = (EXTERNAL_ID, "number")
    match_labels = {EXTERNAL_ID: gettext_lazy("same external id"), "number": gettext_lazy("same ticket number")}
    # Fields an update may change (spec key: (attname, empty value)); a new ticket takes the others too.
    UPDATABLE = {
        "subject": ("subject", ""), "description": ("description", ""), "channel": ("channel", None),
        "category": ("category", None), "product": ("product_id", None), "tags": ("tags", []),
    }
    _writing = False

    @property
    def model(self):
        from service.models import Ticket

        return Ticket

    def base_fields(self):
        from service.models import Category, Channel, Priority, Status

        return [
            FieldSpec("subject", _("Subject"), max_length=250, required=True,
                      aliases=("subject", "title", "summary", "тема", "заголовок", "суть обращения", "тема звернення")),
            FieldSpec("description", _("Description"),
                      aliases=("description", "text", "details", "body", "описание", "текст", "опис")),
            FieldSpec("number", _("Ticket number (this CRM's, to update)"), "ref", max_length=30,
                      aliases=("number", "ticket number", "номер", "номер заявки", "номер обращения")),
            FieldSpec("account_name", _("Account (by name)"), "ref", max_length=200,
                      aliases=(_("Account"), "account", "company", "customer", "компания", "клиент", "организация",
                               "контрагент")),
            FieldSpec("account_tax", _("Account (by tax number)"), "ref", max_length=40,
                      aliases=("tax number", "inn", "vat number", "инн", "инн клиента")),
            FieldSpec("contact_email", _("Contact (by e-mail)"), "email",
                      aliases=("email", "e-mail", "contact", "contact email", "requester", "почта", "эл. почта",
                               "контакт", "заявитель")),
            FieldSpec("channel", _("Channel"), "choice", aliases=("source", "канал", "источник"),
                      choices=_choices(Channel.choices, {"phone": "phone", "email": "e-mail", "web": "web form",
                                                         "portal": "portal", "walk_in": "walk-in"})),
            FieldSpec("category", _("Category"), "choice", aliases=("type", "категория", "тип"),
                      choices=_choices(Category.choices, {"question": "question", "incident": "incident",
                                                          "problem": "problem", "request": "service request",
                                                          "complaint": "complaint", "billing": "billing"})),
            FieldSpec("priority", _("Priority"), "choice", aliases=("приоритет", "пріоритет", "urgency"),
                      choices=_choices(Priority.choices, {Priority.URGENT: "urgent", Priority.HIGH: "high",
                                                          Priority.NORMAL: "normal", Priority.LOW: "low"})),
            FieldSpec("status", _("Status"), "choice", aliases=("state", "статус", "состояние", "стан"),
                      choices=_choices(Status.choices, {"new": "new", "open": "open", "pending": "pending customer",
                                                        "on_hold": "on hold", "resolved": "resolved",
                                                        "closed": "closed"})),
            FieldSpec("opened", pgettext_lazy("date column", "Opened"), "date",
                      aliases=("opened", "created", "created at", "date", "открыт", "создан", "дата", "дата создания",
                               "створено")),
            FieldSpec("resolved", pgettext_lazy("date column", "Resolved"), "date",
                      aliases=("resolved at", "solved", "решён", "решен", "дата решения", "вирішено")),
            FieldSpec("assignee_email", _("Assignee (e-mail)"), "email",
                      aliases=("assignee", "agent", "owner", "исполнитель", "ответственный", "виконавець")),
            FieldSpec("queue_name", _("Queue (by name)"), "ref", max_length=100,
                      aliases=("queue", "group", "очередь", "группа", "черга")),
            FieldSpec("product_sku", _("Product (by SKU)"), "ref", max_length=60,
                      aliases=("product", "sku", "товар", "продукт", "артикул")),
            FieldSpec("tags", _("Tags"), "tags", multiple=True, aliases=("теги", "метки", "мітки")),
        ]

    def parse(self, outcome, columns):
        super().parse(outcome, columns)
        values = outcome.values
        opened, resolved = values.get("opened"), values.get("resolved")
        today = timezone.localdate()
        if opened and opened > today:
            outcome.errors.append(_("Opened: %(date)s is in the future.") % {"date": opened.isoformat()})
        if resolved and opened and resolved < opened:
            outcome.errors.append(_("Resolved: before the ticket was opened."))
        if resolved and values.get("status") not in (None, *SOLVED):
            outcome.errors.append(_("Resolved: a resolution date needs the status “resolved” or “closed”."))

    # -- references: one query per kind per batch, each through the user's visibility ----------------
    def resolve(self, outcomes, user):
        from accounts.models import Account
        from contacts.models import Contact
        from sales.models import Product
        from service.forms import support_people
        from service.models import Queue

        def wanted(key, lower=False):
            return {(o.values[key].lower() if lower else o.values[key]) for o in outcomes if o.values.get(key)}

        accounts_by_name: dict[str, list[int]] = {}
        accounts_by_tax: dict[str, list[int]] = {}
        visible_accounts = Account.objects.visible_to(user)
        if names := wanted("account_name", lower=True):
            for pk, name in visible_accounts.annotate(lname=Lower("name")).filter(lname__in=names).values_list(
                    "pk", "lname"):
                accounts_by_name.setdefault(name, []).append(pk)
        if taxes := wanted("account_tax"):
            for pk, tax in visible_accounts.filter(tax_number__in=taxes).values_list("pk", "tax_number"):
                accounts_by_tax.setdefault(tax, []).append(pk)
        contacts: dict[str, list[tuple[int, int | None]]] = {}
        if emails := wanted("contact_email"):
            rows = Contact.objects.visible_to(user).filter(emails__overlap=sorted(emails)).values_list(
                "pk", "account_id", "emails")
            for pk, account_id, their_emails in rows:
                for email in their_emails:
                    if email.lower() in emails:
                        contacts.setdefault(email.lower(), []).append((pk, account_id))
        people = {}
        if assignees := wanted("assignee_email"):
            people = dict(support_people().annotate(lemail=Lower("email")).filter(lemail__in=assignees)
                          .values_list("lemail", "pk"))
        queues = {}
        if queue_names := wanted("queue_name", lower=True):
            queues = dict(Queue.objects.annotate(lname=Lower("name")).filter(lname__in=queue_names)
                          .values_list("lname", "pk"))
        products = {}
        if skus := wanted("product_sku"):
            products = dict(Product.objects.filter(sku__in=skus, deleted_at__isnull=True, active=True)
                            .values_list("sku", "pk"))
        numbers = set()
        if given_numbers := wanted("number"):
            numbers = set(self.model.objects.editable_by(user).filter(number__in=given_numbers)
                          .values_list("number", flat=True))

        for outcome in outcomes:
            values, errors = outcome.values, outcome.errors
            account_id = None
            if tax := values.get("account_tax"):
                found = accounts_by_tax.get(tax, [])
                if len(found) != 1:
                    errors.append(_("No account you can see has the tax number “%(tax)s”.") % {"tax": tax}
                                  if not found else
                                  _("Several accounts have the tax number “%(tax)s”.") % {"tax": tax})
                else:
                    account_id = found[0]
            elif name := values.get("account_name"):
                found = accounts_by_name.get(name.lower(), [])
                if len(found) != 1:
                    errors.append(_("No account you can see is named “%(name)s”.") % {"name": name}
                                  if not found else
                                  _("Several accounts are named “%(name)s”: link by tax number.") % {"name": name})
                else:
                    account_id = found[0]
            contact_id = None
            if email := values.get("contact_email"):
                found_contacts = contacts.get(email, [])
                if account_id is not None and len(found_contacts) > 1:  # the account tells them apart
                    found_contacts = [c for c in found_contacts if c[1] == account_id] or found_contacts
                if not found_contacts:
                    errors.append(_("No contact you can see has the e-mail “%(email)s”.") % {"email": email})
                elif len(found_contacts) > 1:
                    errors.append(_("Several contacts have the e-mail “%(email)s”.") % {"email": email})
                else:
                    contact_id, contacts_account = found_contacts[0]
                    if account_id is not None and contacts_account not in (None, account_id):
                        errors.append(_("%(email)s works for another account.") % {"email": email})
                    elif account_id is None:
                        account_id = contacts_account
            values["account"], values["contact"] = account_id, contact_id
            if email := values.get("assignee_email"):
                if email not in people:
                    errors.append(_("“%(email)s” is not an active support agent.") % {"email": email})
                values["owner"] = people.get(email)
            if name := values.get("queue_name"):
                if name.lower() not in queues:
                    errors.append(_("There is no queue named “%(name)s”.") % {"name": name})
                values["queue"] = queues.get(name.lower())
            if sku := values.get("product_sku"):
                if sku not in products:
                    errors.append(_("No active product has the SKU “%(sku)s”.") % {"sku": sku})
                values["product"] = products.get(sku)
            if (number := values.get("number")) and number not in numbers:
                errors.append(_("No ticket you may change is numbered “%(number)s”; leave the column empty to open "
                                "new tickets.") % {"number": number})

    def keys_of(self, values):
        keys = super().keys_of(values)
        if values.get("number"):
            keys.append(("number", values["number"]))
        return keys

    def lookup(self, name, values):
        if name != "number":
            return []
        return self.model._default_manager.filter(number__in=values).values_list("number", "pk")

    def process_batch(self, job, batch, *, write, parsed=None):
        self._routed: dict[str, int | None] = {}  # category → queue, read once a batch
        self._writing = write  # numbers are taken only when the batch is written (the preview takes none)
        return super().process_batch(job, batch, write=write, parsed=parsed)

    # -- writes --------------------------------------------------------------------------------
    def build(self, values, user):
        from service import routing, sla_clock
        from service.contract_services import covering_contract
        from service.models import Category, Priority, Status, Ticket
        from service.services import next_ticket_number

        now = timezone.now()
        opened = values.get("opened")
        created_at = timezone.make_aware(datetime.combine(opened, time(9))) if opened else now
        ticket = Ticket(subject=values["subject"], description=values.get("description") or "",
                        channel=values.get("channel") or "phone",
                        category=values.get("category") or Category.QUESTION,
                        priority=values.get("priority") or Priority.NORMAL,
                        account_id=values.get("account"), contact_id=values.get("contact"),
                        product_id=values.get("product"), owner_id=values.get("owner"),
                        tags=values.get("tags") or [], created_at=created_at, updated_at=now)
        self._set_fields(ticket, {k: v for k, v in values.items() if k.startswith("custom:")}, {}, creating=True,
                         clear_empty=False, previous={})
        owner = ticket.owner if ticket.owner_id else None
        ticket.team_id = owner.team_id if owner else None
        if not values.get("queue") and ticket.category not in self._routed:
            self._routed[ticket.category] = getattr(routing.queue_for(ticket.category), "pk", None)
        ticket.queue_id = values.get("queue") or self._routed[ticket.category]
        status = values.get("status") or (Status.OPEN if owner else Status.NEW)
        ticket.status = status
        ticket.contract = covering_contract(account_id=ticket.account_id, product_id=ticket.product_id,
                                            on=created_at.date())
        ticket.queue_rank = routing.rank_for(ticket)
        if status in SOLVED:
            resolved = values.get("resolved")
            ticket.resolved_at = timezone.make_aware(datetime.combine(resolved, time(17))) if resolved else created_at
            ticket.resolved_at = max(ticket.resolved_at, created_at)
            ticket.closed_at = ticket.resolved_at if status == Status.CLOSED else None
            ticket.clock_stopped_at = ticket.resolved_at
            ticket.sla_policy = None  # the previous desk's figures are not known
        else:
            ticket.sla_policy = routing.policy_for(ticket.priority, ticket.account if ticket.account_id else None,
                                                   ticket.contract)
            if status == Status.PENDING:
                ticket.clock_stopped_at = now
        sla_clock.start(ticket, now)
        ticket.number = next_ticket_number(created_at) if self._writing else "—"
        ticket.search_text = f"{ticket.number} {ticket.subject}"[:600]
        return ticket

    def apply(self, obj, values, *, clear_empty):
        previous = {}
        self._set_fields(obj, values, self.UPDATABLE, creating=False, clear_empty=clear_empty, previous=previous)
        for required, empty in (("subject", ""), ("channel", None), ("category", None)):
            if getattr(obj, required) in (empty, ""):
                setattr(obj, required, previous.pop(required, getattr(obj, required)))
        self.finalise(obj)
        return previous

    def finalise(self, obj):
        obj.search_text = f"{obj.number} {obj.subject}"[:600]

    derived_fields = ("search_text",)
