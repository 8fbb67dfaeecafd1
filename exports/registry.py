"""What can be exported: each module registers its lists' model, filter set and columns in its
own `exporters.py`, found by autodiscovery in ExportsConfig.ready (accounts/exporters.py is the
example to copy). The registry names no module.
"""

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.functional import Promise

if TYPE_CHECKING:
    from crm.models import User

Column = tuple[str | Promise, Callable[[Any], object]]  # (header, row -> value)


@dataclass(frozen=True)
class Exporter:
    target: str
    label: str | Promise
    list_url: str
    queryset: Callable[["User"], QuerySet[Any]]  # the list's rows through the visibility policy
    filterset: Callable[[], Any]  # returns the list's FilterSet class (django-filter has no type hints)
    columns: list[Column]


EXPORTERS: dict[str, Exporter] = {}


def register(exporter: Exporter) -> None:
    from crm.security_details import EXPORT_LABELS  # the security log names the list an export came from

    EXPORTERS[exporter.target] = exporter
    EXPORT_LABELS[exporter.target] = exporter.label


def filtered_rows(exporter: Exporter, user: "User", query: str) -> QuerySet[Any]:
    """The rows the user sees on the list page with these filters: same filter set, same policy."""
    from django.http import QueryDict

    request = SimpleNamespace(user=user, GET=QueryDict(query))
    filterset = exporter.filterset()(QueryDict(query), queryset=exporter.queryset(user), request=request)
    qs: QuerySet[Any] = filterset.qs
    return qs


def join_list(value: list[str] | str) -> str:
    """A list field (tags, e-mails, phones) as one cell."""
    return ", ".join(value) if isinstance(value, list) else value
