"""Segments: audience criteria over contacts, their accounts and their purchases, turned into one
query. The form (SegmentForm) offers only these criteria, so no code is written and nothing else
can be asked; `contacts_in` is the single place that turns stored criteria into SQL.

Stored criteria (JSON, all optional; an empty segment is every contact the user may see):
    territory: id            the account's territory or one below it
    industries: [text]       the account's industry, any of these (no case)
    account_types: [value]   AccountType values
    tiers: [value]           AccountTier values
    abc_classes: [value]     AbcClass values (the customer ranking stored on the account)
    rfm_classes: [value]     RfmClass values
    vip: "yes" | "no"
    tags: [text]             the contact or its account carries any of these tags
    consent: "opted_in" | "not_opted_out"
    exclude_do_not_call: bool
    has_email: bool
    lead_sources: [value]    the contact's lead source
    owners: [user id]        the contact's owner
    topics: [topic id]       subscribed to any of these topics
    no_purchase_months: int  the account has no order (not cancelled) dated in the last N months
    bought_product: id       the account ordered this product (an order not cancelled)
    custom: [condition]      custom fields of the contact or its account, every condition holds
                             (marketing/segment_fields.py: whitelisted keys and operators)
"""

from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Contact
from crm.models import Territory, User
from crm.visibility import with_visibility_flag
from marketing import segment_fields
from marketing.models import Topic, TopicSubscription
from sales.models import Order, OrderLine, OrderStatus

SAMPLE_SIZE = 10


def months_ago(months: int, today: date | None = None) -> date:
    """The same day `months` calendar months earlier (the month's last day when it is shorter)."""
    today = today or timezone.localdate()
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month + 1, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def criteria_q(criteria: dict[str, Any]) -> Q:
    """The WHERE clause of a segment, over Contact rows (with EXISTS for purchases)."""
    q = Q()
    if criteria.get("territory"):
        territory = Territory.objects.filter(pk=criteria["territory"]).first()
        q &= Q(account__territory_id__in=territory.subtree_ids() if territory else [])
    if criteria.get("industries"):
        industry = Q()
        for name in criteria["industries"]:
            industry |= Q(account__industry__iexact=name)
        q &= industry
    if criteria.get("account_types"):
        q &= Q(account__type__in=criteria["account_types"])
    if criteria.get("tiers"):
        q &= Q(account__tier__in=criteria["tiers"])
    if criteria.get("abc_classes"):
        q &= Q(account__abc_class__in=criteria["abc_classes"])
    if criteria.get("rfm_classes"):
        q &= Q(account__rfm_class__in=criteria["rfm_classes"])
    if criteria.get("vip") in ("yes", "no"):
        q &= Q(account__is_vip=criteria["vip"] == "yes")
    if criteria.get("tags"):
        q &= Q(tags__overlap=criteria["tags"]) | Q(account__tags__overlap=criteria["tags"])
    if criteria.get("consent") == "opted_in":
        q &= Q(email_opt_in=True, email_opted_out_at__isnull=True)
    elif criteria.get("consent") == "not_opted_out":
        q &= Q(email_opted_out_at__isnull=True)
    if criteria.get("exclude_do_not_call"):
        q &= Q(do_not_call=False)
    if criteria.get("has_email"):
        q &= ~Q(emails=[])
    if criteria.get("lead_sources"):
        q &= Q(lead_source__in=criteria["lead_sources"])
    if criteria.get("owners"):
        q &= Q(owner_id__in=criteria["owners"])
    if criteria.get("topics"):
        q &= Q(Exists(TopicSubscription.objects.filter(contact_id=OuterRef("pk"), topic_id__in=criteria["topics"])))
    orders = Order.objects.filter(account_id=OuterRef("account_id"), deleted_at__isnull=True).exclude(
        status=OrderStatus.CANCELLED)
    if criteria.get("no_purchase_months"):
        recent = orders.filter(ordered_on__gte=months_ago(int(criteria["no_purchase_months"])))
        q &= Q(~Exists(recent))
    if criteria.get("bought_product"):
        lines = OrderLine.objects.filter(
            product_id=criteria["bought_product"], order__account_id=OuterRef("account_id"),
            order__deleted_at__isnull=True).exclude(order__status=OrderStatus.CANCELLED)
        q &= Q(Exists(lines))
    if criteria.get("custom"):
        q &= segment_fields.conditions_q(criteria["custom"])
    return q


def contacts_in(criteria: dict[str, Any], user: User) -> QuerySet[Contact]:
    """The contacts of a segment that the user may see: one query when evaluated."""
    return Contact.objects.visible_to(user).filter(criteria_q(criteria))


def preview(criteria: dict[str, Any], user: User) -> tuple[int, list[Contact]]:
    """How many contacts match and the first few of them, by name."""
    contacts = contacts_in(criteria, user)
    named = with_visibility_flag(contacts.select_related("account"), user, "account")  # a hidden company stays unnamed
    sample = list(named.order_by("last_name", "first_name", "id")[:SAMPLE_SIZE])
    return contacts.count(), sample


def describe(criteria: dict[str, Any]) -> list[tuple[str, str]]:
    """The criteria in words, in the form's order: [(label, value), …] (a query or two for names)."""
    from marketing.forms import SegmentForm
    from sales.models import Product

    fields = SegmentForm.base_fields
    names: dict[str, str] = {}
    if criteria.get("territory"):
        territory = Territory.objects.filter(pk=criteria["territory"]).first()
        names["territory"] = territory.full_name if territory else "—"
    if criteria.get("bought_product"):
        product = Product.objects.filter(pk=criteria["bought_product"]).only("sku", "name").first()
        names["bought_product"] = f"{product.sku} · {product.name}" if product else "—"
    if criteria.get("owners"):
        names["owners"] = ", ".join(str(u) for u in User.objects.filter(pk__in=criteria["owners"]))
    if criteria.get("topics"):
        names["topics"] = ", ".join(Topic.objects.filter(pk__in=criteria["topics"]).order_by("name")
                                    .values_list("name", flat=True)) or "—"
    out = []
    for name in SegmentForm.CRITERIA:
        value = criteria.get(name)
        if value in (None, "", [], False):
            continue
        field = fields[name]
        if name in names:
            text = names[name]
        elif isinstance(value, bool):
            text = str(_("Yes"))
        elif hasattr(field, "choices"):
            labels = {str(key): str(label) for key, label in field.choices}
            text = ", ".join(labels.get(str(v), str(v)) for v in (value if isinstance(value, list) else [value]))
        elif isinstance(value, list):
            text = ", ".join(value)
        else:
            text = str(value)
        out.append((str(field.label), text))
    if criteria.get("custom"):
        custom = criteria["custom"]
        out += [segment_fields.describe(condition) for condition in (custom if isinstance(custom, list) else [custom])]
    return out
