"""What every list page shares: saved views, bulk actions, CSV export of a selection."""

import csv
from dataclasses import dataclass

from django.db.models import Q
from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import SavedView

MAX_SELECTION = 1000
IGNORED_PARAMS = {"page", "csrfmiddlewaretoken"}


@dataclass
class ViewLink:
    name: str
    query: str
    pk: int | None = None  # None: built in
    mine: bool = False
    shared: bool = False


BUILT_IN_VIEWS = {
    "accounts.account": [
        (_("My accounts"), "scope=mine"),
        (_("My team's VIP customers"), "scope=team&type=customer&is_vip=true"),
        (_("Recently changed"), "sort=-updated"),
    ],
    "contacts.contact": [
        (_("My contacts"), "mine=true"),
        (_("Agreed to marketing e-mail"), "email_opt_in=true"),
    ],
}


def clean_query(raw: str) -> str:
    """Only the filter and sort parameters, re-encoded: nothing else is stored."""
    query = QueryDict(raw, mutable=True)
    for name in IGNORED_PARAMS:
        query.pop(name, None)
    for name in list(query):
        if not any(value.strip() for value in query.getlist(name)):
            query.pop(name)
    return query.urlencode()[:1000]


def views_for(user, target: str) -> list[ViewLink]:
    links = [ViewLink(name=str(name), query=query) for name, query in BUILT_IN_VIEWS.get(target, [])]
    saved = SavedView.objects.filter(Q(user=user) | Q(shared=True), target=target).select_related("user")
    for view in saved:
        links.append(ViewLink(name=view.name, query=view.query, pk=view.pk, mine=view.user_id == user.pk,
                              shared=view.shared))
    return links


def to_int(value) -> int | None:
    """An id from a query string or form: None for anything that is not a whole number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def selected_ids(request) -> list[int]:
    ids = []
    for raw in request.POST.getlist("ids")[:MAX_SELECTION]:
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    return ids


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """A spreadsheet must not run a cell as a formula: prefix risky starts with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    response.write("\ufeff")  # so Excel opens UTF-8 (Cyrillic) correctly
    writer = csv.writer(response, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return response
