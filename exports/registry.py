"""What can be exported: each module registers its lists' model, filter set and columns in its
own `exporters.py`, found by autodiscovery in ExportsConfig.ready (accounts/exporters.py is the
example to copy). The registry names no module.
"""

from dataclasses import dataclass
from types import SimpleNamespace


@dataclass(frozen=True)
class Exporter:
    target: str
    label: str
    list_url: str
    queryset: object  # callable(user) -> QuerySet through the visibility policy
    filterset: object  # callable() -> FilterSet class
    columns: list  # [(header, callable(row) -> value)]


EXPORTERS: dict[str, Exporter] = {}


def register(exporter: Exporter) -> None:
    EXPORTERS[exporter.target] = exporter


def filtered_rows(exporter: Exporter, user, query: str):
    """The rows the user sees on the list page with these filters: same filter set, same policy."""
    from django.http import QueryDict

    request = SimpleNamespace(user=user, GET=QueryDict(query))
    filterset = exporter.filterset()(QueryDict(query), queryset=exporter.queryset(user), request=request)
    return filterset.qs


def join_list(value) -> str:
    """A list field (tags, e-mails, phones) as one cell."""
    return ", ".join(value) if isinstance(value, list) else value
