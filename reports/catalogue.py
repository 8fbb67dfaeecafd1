"""What the report builder may read: per entity, its rows (through the model's visibility policy) and the
whitelisted fields a report may show, filter, group, sort and add up. Nothing else reaches the database: a
report names fields by these keys only, never by an ORM path (reports/builder.py refuses anything else).

A related field whose record the reader may not see (a deal shared with the team, on an account owned by
someone else) is blank for that reader: `guard` names the foreign key and its model, and the value is shown
only when `Model.objects.visible_to(reader)` holds the linked row.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, AccountTier, AccountType
from activities.models import Activity, ActivityKind, CallOutcome, Direction, Priority, TaskStatus
from contacts.models import Contact, PreferredChannel
from crm.choices import LeadSource
from crm.models import CustomFieldTarget, User
from marketing.models import Campaign, CampaignStatus, CampaignType
from sales.models import (
    ApprovalStatus,
    DisqualifyReason,
    ForecastCategory,
    Invoice,
    InvoiceStatus,
    Lead,
    LeadRating,
    LeadStatus,
    LostReason,
    Opportunity,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    Quote,
    QuoteStatus,
    StageKind,
)
from service.models import Category, Channel, SlaState, Status, Ticket
from service.models import Priority as TicketPriority

TEXT, NUMBER, MONEY, DATE, MOMENT, CHOICE, BOOLEAN = "text", "number", "money", "date", "datetime", "choice", "boolean"


@dataclass(frozen=True)
class Field:
    key: str  # what a report names ("account.name"); never an ORM path
    label: str | Promise
    path: str  # the ORM path, set here only
    kind: str = TEXT
    choices: tuple[tuple[Any, Any], ...] = ()
    guard: tuple[str, type[Model]] | None = None  # (foreign key path, its model): blank when the reader may not see it
    currency: str = ""  # MONEY: the currency column; the value is converted to the base currency
    fallback: str = ""  # MONEY: the stored base amount for a currency without a rate today
    person: bool = False  # a user: shown as their full name

    @property
    def choice_labels(self) -> dict[Any, Any]:
        return dict(self.choices)


@dataclass(frozen=True)
class Entity:
    key: str
    label: str | Promise
    model: type[Model]
    fields: tuple[Field, ...]
    custom_target: str = ""  # CustomFieldTarget value: its custom fields are offered as columns too
    rows: Callable[[User], QuerySet[Any]] | None = None  # default: model.objects.visible_to(user)
    policy_model: type[Model] | None = None  # whose read policy decides who may report on it
    default_columns: tuple[str, ...] = ()

    def queryset(self, user: User) -> QuerySet[Any]:
        if self.rows is not None:
            return self.rows(user)
        return self.model._default_manager.visible_to(user)  # type: ignore[attr-defined]  # OwnedQuerySet

    @property
    def reader_model(self) -> type[Model]:
        return self.policy_model or self.model


def _owned(prefix: str = "", *, owner_label: str | Promise = "") -> tuple[Field, ...]:
    """Owner, team and creation time of an owned record."""
    return (
        Field("owner", owner_label or _("Owner"), f"{prefix}owner", TEXT, person=True),
        Field("team", _("Team"), f"{prefix}team__name"),
        Field("created_at", _("Created"), f"{prefix}created_at", MOMENT),
    )


def _related(key: str, label: str | Promise, fk: str, model: type[Model], path: str, kind: str = TEXT,
             choices: tuple = ()) -> Field:
    return Field(key, label, f"{fk}__{path}", kind, choices=tuple(choices), guard=(fk, model))


def _choices(text_choices: Any) -> tuple[tuple[Any, Any], ...]:
    return tuple(text_choices.choices)


def _payments(user: User) -> QuerySet[Any]:
    """Payments have no owner: a reader sees those of the invoices they may see (as the billing API)."""
    return Payment.objects.filter(invoice__in=Invoice.objects.visible_to(user).values("pk"))


ENTITIES: dict[str, Entity] = {}


def _register(entity: Entity) -> None:
    ENTITIES[entity.key] = entity


_register(Entity("accounts", _("Accounts"), Account, (
    Field("name", _("Name"), "name"),
    Field("legal_name", _("Legal name"), "legal_name"),
    Field("type", _("Type"), "type", CHOICE, _choices(AccountType)),
    Field("industry", _("Industry"), "industry"),
    Field("tier", _("Tier"), "tier", CHOICE, _choices(AccountTier)),
    Field("is_vip", _("VIP"), "is_vip", BOOLEAN),
    Field("territory", _("Territory"), "territory__name"),
    _related("parent.name", _("Parent account"), "parent", Account, "name"),
    Field("country", _("Country"), "country"),
    Field("city", _("City"), "city"),
    Field("annual_revenue", _("Annual revenue"), "annual_revenue", NUMBER),
    Field("employees", _("Employees"), "employees", NUMBER),
    Field("lead_source", _("Lead source"), "lead_source", CHOICE, _choices(LeadSource)),
    *_owned(),
), custom_target=CustomFieldTarget.ACCOUNT, default_columns=("name", "type", "industry", "owner")))

_register(Entity("contacts", _("Contacts"), Contact, (
    Field("full_name", _("Name"), "full_name"),
    Field("first_name", _("First name"), "first_name"),
    Field("last_name", _("Last name"), "last_name"),
    Field("title", _("Job title"), "title"),
    Field("department", _("Department"), "department"),
    _related("account.name", _("Account"), "account", Account, "name"),
    _related("account.industry", _("Account industry"), "account", Account, "industry"),
    _related("account.type", _("Account type"), "account", Account, "type", CHOICE, _choices(AccountType)),
    Field("preferred_channel", _("Preferred channel"), "preferred_channel", CHOICE, _choices(PreferredChannel)),
    Field("birthday", _("Birthday"), "birthday", DATE),
    Field("lead_source", _("Lead source"), "lead_source", CHOICE, _choices(LeadSource)),
    Field("email_opt_in", _("Agreed to marketing e-mail"), "email_opt_in", BOOLEAN),
    Field("do_not_call", _("Do not call"), "do_not_call", BOOLEAN),
    *_owned(),
), custom_target=CustomFieldTarget.CONTACT, default_columns=("full_name", "account.name", "title", "owner")))

_register(Entity("leads", _("Leads"), Lead, (
    Field("last_name", _("Last name"), "last_name"),
    Field("first_name", _("First name"), "first_name"),
    Field("company", _("Company"), "company"),
    Field("title", _("Job title"), "title"),
    Field("country", _("Country"), "country"),
    Field("city", _("City"), "city"),
    Field("territory", _("Territory"), "territory__name"),
    Field("source", _("Source"), "source", CHOICE, _choices(LeadSource)),
    Field("status", _("Status"), "status", CHOICE, _choices(LeadStatus)),
    Field("disqualify_reason", _("Disqualified because"), "disqualify_reason", CHOICE, _choices(DisqualifyReason)),
    Field("rating", _("Rating"), "rating", CHOICE, _choices(LeadRating)),
    Field("converted_at", _("Converted"), "converted_at", MOMENT),
    *_owned(),
), custom_target=CustomFieldTarget.LEAD, default_columns=("last_name", "company", "source", "status")))

_register(Entity("deals", _("Deals"), Opportunity, (
    Field("name", _("Name"), "name"),
    _related("account.name", _("Account"), "account", Account, "name"),
    _related("account.industry", _("Industry"), "account", Account, "industry"),
    _related("account.territory", _("Territory"), "account", Account, "territory__name"),
    Field("pipeline", _("Pipeline"), "pipeline__name"),
    Field("stage", _("Stage"), "stage__name"),
    Field("stage_kind", _("Stage kind"), "stage__kind", CHOICE, _choices(StageKind)),
    Field("amount", _("Amount"), "amount", MONEY, currency="currency", fallback="amount_base"),
    Field("currency", _("Currency"), "currency"),
    Field("probability", _("Probability, %"), "probability", NUMBER),
    Field("expected_close_date", _("Expected close date"), "expected_close_date", DATE),
    Field("closed_at", _("Closed"), "closed_at", MOMENT),
    Field("lead_source", _("Lead source"), "lead_source", CHOICE, _choices(LeadSource)),
    Field("forecast_category", _("Forecast category"), "forecast_category", CHOICE, _choices(ForecastCategory)),
    Field("lost_reason", _("Lost reason"), "lost_reason", CHOICE, _choices(LostReason)),
    Field("competitors", _("Competitors"), "competitors"),
    *_owned(),
), custom_target=CustomFieldTarget.OPPORTUNITY, default_columns=("name", "account.name", "stage", "amount")))

_register(Entity("activities", _("Activities"), Activity, (
    Field("kind", _("Kind"), "kind", CHOICE, _choices(ActivityKind)),
    Field("subject", _("Subject"), "subject"),
    _related("account.name", _("Account"), "account", Account, "name"),
    _related("contact.name", _("Contact"), "contact", Contact, "full_name"),
    _related("deal.name", _("Deal"), "opportunity", Opportunity, "name"),
    Field("occurred_at", _("When"), "occurred_at", MOMENT),
    Field("direction", _("Direction"), "direction", CHOICE, _choices(Direction)),
    Field("outcome", _("Outcome"), "outcome", CHOICE, _choices(CallOutcome)),
    Field("duration_minutes", _("Duration (minutes)"), "duration_minutes", NUMBER),
    Field("priority", _("Priority"), "priority", CHOICE, _choices(Priority)),
    Field("status", _("Task status"), "status", CHOICE, _choices(TaskStatus)),
    Field("completed_at", _("Completed"), "completed_at", MOMENT),
    *_owned(),
), default_columns=("kind", "subject", "occurred_at", "owner")))


def _document(number_label: str | Promise) -> tuple[Field, ...]:
    return (
        Field("number", number_label, "number"),
        _related("account.name", _("Account"), "account", Account, "name"),
        _related("account.industry", _("Industry"), "account", Account, "industry"),
        _related("account.territory", _("Territory"), "account", Account, "territory__name"),
        Field("total", _("Total"), "total", MONEY, currency="currency"),
        Field("discount_total", _("Discount"), "discount_total", MONEY, currency="currency"),
        Field("currency", _("Currency"), "currency"),
    )


_register(Entity("quotes", _("Quotes"), Quote, (
    *_document(_("Quote number")),
    Field("title", _("Title"), "title"),
    _related("deal.name", _("Deal"), "opportunity", Opportunity, "name"),
    Field("status", _("Status"), "status", CHOICE, _choices(QuoteStatus)),
    Field("approval_status", _("Discount approval"), "approval_status", CHOICE, _choices(ApprovalStatus)),
    Field("issue_date", _("Date"), "issue_date", DATE),
    Field("valid_until", _("Valid until"), "valid_until", DATE),
    *_owned(),
), default_columns=("number", "account.name", "status", "total")))

_register(Entity("orders", _("Orders"), Order, (
    *_document(_("Order number")),
    _related("deal.name", _("Deal"), "opportunity", Opportunity, "name"),
    Field("status", _("Status"), "status", CHOICE, _choices(OrderStatus)),
    Field("ordered_on", _("Order date"), "ordered_on", DATE),
    *_owned(),
), default_columns=("number", "account.name", "ordered_on", "total")))

_register(Entity("invoices", _("Invoices"), Invoice, (
    *_document(_("Invoice number")),
    Field("amount_paid", _("Paid"), "amount_paid", MONEY, currency="currency"),
    Field("status", _("Status"), "status", CHOICE, _choices(InvoiceStatus)),
    Field("issue_date", _("Issue date"), "issue_date", DATE),
    Field("due_date", _("Due date"), "due_date", DATE),
    *_owned(),
), default_columns=("number", "account.name", "due_date", "total", "amount_paid")))

_register(Entity("payments", _("Payments"), Payment, (
    Field("amount", _("Amount"), "amount", MONEY, currency="invoice__currency"),
    Field("currency", _("Currency"), "invoice__currency"),
    Field("paid_on", _("Paid on"), "paid_on", DATE),
    Field("method", _("Method"), "method", CHOICE, _choices(PaymentMethod)),
    Field("reference", _("Reference"), "reference"),
    Field("invoice.number", _("Invoice number"), "invoice__number"),
    Field("invoice.status", _("Invoice status"), "invoice__status", CHOICE, _choices(InvoiceStatus)),
    _related("account.name", _("Account"), "invoice__account", Account, "name"),
    Field("owner", _("Invoice owner"), "invoice__owner", TEXT, person=True),
    Field("team", _("Team"), "invoice__team__name"),
), rows=_payments, policy_model=Invoice, default_columns=("paid_on", "invoice.number", "account.name", "amount")))

_register(Entity("tickets", _("Tickets"), Ticket, (
    Field("number", _("Ticket number"), "number"),
    Field("subject", _("Subject"), "subject"),
    _related("account.name", _("Account"), "account", Account, "name"),
    _related("contact.name", _("Contact"), "contact", Contact, "full_name"),
    Field("channel", _("Channel"), "channel", CHOICE, _choices(Channel)),
    Field("category", _("Category"), "category", CHOICE, _choices(Category)),
    Field("product", _("Product"), "product__name"),
    Field("priority", _("Priority"), "priority", CHOICE, _choices(TicketPriority)),
    Field("status", _("Status"), "status", CHOICE, _choices(Status)),
    Field("queue", _("Queue"), "queue__name"),
    Field("sla_state", _("SLA"), "sla_state", CHOICE, _choices(SlaState)),
    Field("first_responded_at", _("First response"), "first_responded_at", MOMENT),
    Field("resolved_at", _("Resolved"), "resolved_at", MOMENT),
    *_owned(owner_label=_("Assignee")),
), default_columns=("number", "subject", "status", "owner")))

_register(Entity("campaigns", _("Campaigns"), Campaign, (
    Field("name", _("Name"), "name"),
    Field("type", _("Type"), "type", CHOICE, _choices(CampaignType)),
    Field("status", _("Status"), "status", CHOICE, _choices(CampaignStatus)),
    Field("start_date", _("Start date"), "start_date", DATE),
    Field("end_date", _("End date"), "end_date", DATE),
    Field("budget", _("Budget"), "budget", MONEY, currency="currency"),
    Field("expected_revenue", _("Expected revenue"), "expected_revenue", MONEY, currency="currency"),
    *_owned(),
), default_columns=("name", "type", "status", "budget")))


def fields_of(entity: Entity) -> dict[str, Field]:
    """The entity's whitelisted fields and its active custom fields (`cf.<key>`), by key."""
    from crm import custom_fields
    from crm.models import CustomFieldKind

    result = {item.key: item for item in entity.fields}
    if entity.custom_target:
        kinds = {CustomFieldKind.NUMBER: NUMBER, CustomFieldKind.DATE: DATE, CustomFieldKind.BOOLEAN: BOOLEAN,
                 CustomFieldKind.CHOICE: CHOICE}
        for definition in custom_fields.definitions(entity.custom_target):
            kind = kinds.get(definition.kind, TEXT)
            choices = tuple(definition.shown_choices) if kind == CHOICE else ()
            result[f"cf.{definition.key}"] = Field(f"cf.{definition.key}", definition.shown_label,
                                                   f"custom__{definition.key}", kind, choices=choices)
    return result


def entity_choices(user: User) -> list[tuple[str, str | Promise]]:
    """The entities this reader's role may report on."""
    from crm.visibility import can_read

    return [(entity.key, entity.label) for entity in ENTITIES.values() if can_read(user, entity.reader_model)]


def custom_field(field: Field) -> bool:
    return field.key.startswith("cf.")


def expand(fields: dict[str, Field]) -> list[tuple[str, list[tuple[str, str | Promise]]]]:
    """Choices grouped for a <select>: the record's own fields, related records', custom fields."""
    own = [(key, item.label) for key, item in fields.items() if not item.guard and not custom_field(item)]
    related = [(key, item.label) for key, item in fields.items() if item.guard]
    custom = [(key, item.label) for key, item in fields.items() if custom_field(item)]
    groups = [(str(_("Fields")), own)]
    if related:
        groups.append((str(_("Related records")), related))
    if custom:
        groups.append((str(_("Additional fields")), custom))
    return groups


