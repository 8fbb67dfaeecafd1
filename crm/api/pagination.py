"""Cursor pagination over an allow-listed, indexed ordering.

A cursor page costs the same at row 10 and row 1,000,000 (no OFFSET, no COUNT). The
ordering is one allow-listed field plus the primary key as tie-breaker, so rows that share
a value still come in a stable order.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    ordering = ("-id",)
    page_size_query_param = "page_size"
    page_size_query_description = _("Rows per page (1 to 200, default 50).")
    max_page_size = 200

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, DjangoValidationError, DataError):
            # A hand-made cursor whose position does not fit the ordering field.
            raise NotFound(self.invalid_cursor_message) from None


class AllowListOrdering(OrderingFilter):
    """`?ordering=name` or `?ordering=-updated_at`: one field from the view's `ordering_fields`."""

    ordering_description = _("Sort by one field; a leading “-” sorts descending. The row id breaks ties.")

    def get_ordering(self, request, queryset, view):
        allowed = getattr(view, "ordering_fields", ())
        default = tuple(getattr(view, "ordering", None) or ("-id",))
        requested = request.query_params.get(self.ordering_param, "").split(",")[0].strip()
        if requested.lstrip("-") not in allowed:
            return default
        descending = requested.startswith("-")
        if requested.lstrip("-") == "id":
            return (requested,)
        return (requested, "-id" if descending else "id")

    def get_schema_operation_parameters(self, view):
        choices = [value for field in getattr(view, "ordering_fields", ()) for value in (field, f"-{field}")]
        return [{
            "name": self.ordering_param,
            "required": False,
            "in": "query",
            "description": str(self.ordering_description),
            "schema": {"type": "string", "enum": choices},
        }]
