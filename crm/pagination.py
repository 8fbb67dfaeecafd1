"""Bounded pagination: never a full-table COUNT on a big table.

The total is exact up to COUNT_LIMIT and shown as "10,000+" beyond.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, Expression, F, Model, Q, QuerySet
from django.db.models.expressions import RawSQL

COUNT_LIMIT = 10_000
TEXT_MATCH_LIMIT = 2_000  # rows a text search on a list sorts at most
DEEP_OFFSET = 1_000


@dataclass
class Page:
    rows: list[Any]
    number: int
    per_page: int
    total: int
    total_is_exact: bool
    # Money summed over every matching row (not only this page's), per currency: {currency: {name: sum}}.
    # Filled only when asked for and when the count is exact (a sum over "10,000+" rows would be a guess).
    sums: dict[str, dict[str, Decimal]] = field(default_factory=dict)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * self.per_page < self.total

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def last_number(self) -> int | None:
        return max(1, -(-self.total // self.per_page)) if self.total_is_exact else None

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.rows)


def bounded_matches[M: Model](queryset: QuerySet[M], condition: Q) -> QuerySet[M]:
    """The rows matching a text search, at most TEXT_MATCH_LIMIT + 1 of them (taken from the
    trigram index, unordered) for the list to sort. A name as common as "Smith" matches tens
    of thousands of rows: sorting them all would take seconds; the list shows "2,000+" and
    the person narrows the search. The ids are fetched once (an InitPlan) and looked up by
    primary key, so the planner cannot turn it into a join against the whole table."""
    matching = queryset.filter(condition).order_by().values("pk")[: TEXT_MATCH_LIMIT + 1]
    try:
        sql, params = matching.query.sql_with_params()
    except EmptyResultSet:  # a role that reads none of these rows: nothing can match
        return queryset.none()
    table = queryset.model._meta.db_table
    return queryset.filter(RawSQL(f'"{table}"."id" = ANY(ARRAY({sql}))', params,  # noqa: S611 - compiled ORM SQL  # nosec B611
                                  output_field=BooleanField()))


def _count_and_sum(queryset: QuerySet[Any], limit: int, group: str,
                   sums: dict[str, Expression | F]) -> tuple[int, dict[str, dict[str, Decimal]]]:
    """The bounded count and, in the same query, the sums of the counted rows per `group` (the
    currency): `SELECT group, count(*), sum(a)… FROM (the list's rows LIMIT n) GROUP BY group`.
    It replaces the count query, so a list with money totals costs no extra query."""
    names = list(sums)
    aliases = {f"_sum_{index}": expression for index, expression in enumerate(sums.values())}
    # The pk too: a DISTINCT queryset must stay distinct per row, not per (currency, amount).
    rows = queryset.order_by().annotate(**aliases).values_list(group, *aliases, "pk")[:limit]
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:
        return 0, {}
    columns = ", ".join(f"c{index}" for index in range(len(names)))
    totals = ", ".join(f"sum(c{index})" for index in range(len(names)))
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"SELECT g, count(*), {totals} FROM ({sql}) AS counted(g, {columns}, row_id) GROUP BY g",  # noqa: S608 - compiled ORM SQL, fixed aliases  # nosec B608
                       params)
        grouped = cursor.fetchall()
    count = sum(row[1] for row in grouped)
    return count, {str(row[0] or ""): {name: row[2 + index] or Decimal(0) for index, name in enumerate(names)}
                   for row in grouped}


def paginate(queryset: QuerySet[Any], page_param: str | None, per_page: int = 50,
             count_limit: int = COUNT_LIMIT, sum_group: str = "",
             sums: dict[str, Expression | F] | None = None) -> Page:
    """One page of `queryset`. With `sums` ({name: expression}), the count query also sums each
    expression over every matching row, per `sum_group` (see Page.sums)."""
    try:
        number = max(1, int(page_param or 1))
    except ValueError:
        number = 1
    grand: dict[str, dict[str, Decimal]] = {}
    if sums:
        total, grand = _count_and_sum(queryset, count_limit + 1, sum_group, sums)
    else:
        total = queryset.order_by()[: count_limit + 1].count()
    exact = total <= count_limit
    total = min(total, count_limit)
    # Beyond the counted rows, at most one page past them: deep OFFSETs are refused.
    max_page = max(1, -(-total // per_page)) if exact else count_limit // per_page + 1
    number = min(number, max_page)
    offset = (number - 1) * per_page
    if offset >= DEEP_OFFSET:
        # Deep pages: skip rows in the (index-only) id list, then load the page's rows by id.
        ids = list(queryset.values_list("pk", flat=True)[offset : offset + per_page])
        by_id = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
        rows = [by_id[pk] for pk in ids if pk in by_id]
    else:
        rows = list(queryset[offset : offset + per_page])
    return Page(rows=rows, number=number, per_page=per_page, total=total, total_is_exact=exact,
                sums=grand if exact else {})
