"""Receivables: what customers still owe, how late, in ageing buckets.

Everything is one SQL aggregate with conditional sums over the outstanding invoices the user
may see (Invoice.objects.visible_to(user).outstanding()), grouped by currency: amounts in
different currencies are never added together.

Days past due = today − due date. An invoice due today is 0 days past due (bucket 0–30) but not
yet overdue; an invoice due later is "not yet due". Buckets:
  not_due: due date after today;   b0_30: 0–30 days;   b31_60: 31–60;   b61_90: 61–90;   b90: 91 or more.
So not_due + the four buckets = outstanding, and overdue = outstanding − not_due − (due today).
"""

import datetime

from django.db.models import DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.visibility import with_visibility_flag
from sales.models import Invoice

BUCKETS = ("b0_30", "b31_60", "b61_90", "b90")
ACCOUNTS_SHOWN = 50


def _sum(condition: Q | None = None):
    balance = F("total") - F("amount_paid")
    zero = Value(0, output_field=DecimalField(max_digits=16, decimal_places=2))
    return Coalesce(Sum(balance, filter=condition, output_field=DecimalField(max_digits=16, decimal_places=2)), zero)


def aggregates(today: datetime.date) -> dict:
    days = datetime.timedelta
    return {
        "outstanding": _sum(),
        "overdue": _sum(Q(due_date__lt=today)),
        "not_due": _sum(Q(due_date__gt=today)),
        "b0_30": _sum(Q(due_date__lte=today, due_date__gte=today - days(30))),
        "b31_60": _sum(Q(due_date__lt=today - days(30), due_date__gte=today - days(60))),
        "b61_90": _sum(Q(due_date__lt=today - days(60), due_date__gte=today - days(90))),
        "b90": _sum(Q(due_date__lt=today - days(90))),
    }


def outstanding_invoices(user):
    return Invoice.objects.visible_to(user).outstanding()


def account_receivables(user, account, today: datetime.date | None = None) -> list[dict]:
    """One row per currency: outstanding, overdue, not yet due and the four buckets. One query."""
    today = today or timezone.localdate()
    return list(outstanding_invoices(user).filter(account=account).order_by("currency").values("currency")
                .annotate(**aggregates(today)))


def receivables_by_account(user, today: datetime.date | None = None):
    """Accounts with an outstanding balance (per currency), the most overdue first; a queryset of
    dicts to paginate. `account_visible` says whether the account's name may be shown."""
    today = today or timezone.localdate()
    rows = with_visibility_flag(outstanding_invoices(user), user, "account")
    return (rows.values("account_id", "account__name", "account_visible", "currency")
            .annotate(**aggregates(today)).order_by("-overdue", "-outstanding", "account_id", "currency"))
