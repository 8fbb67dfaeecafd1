"""Small helpers the list component (crm/lists.py) and the exports share: query cleaning, ticked ids,
CSV export of a selection with spreadsheet formulas neutralised."""

import csv
import re
from dataclasses import dataclass

from django.http import HttpResponse, QueryDict
from django.utils import timezone

from crm.phones import normalize_phone

MAX_SELECTION = 1000
IGNORED_PARAMS = {"page", "csrfmiddlewaretoken"}


@dataclass
class ViewLink:
    name: str
    query: str
    pk: int | None = None  # None: built in
    mine: bool = False
    shared: bool = False


def clean_query(raw: str) -> str:
    """Only the filter and sort parameters, re-encoded: nothing else is stored."""
    query = QueryDict(raw, mutable=True)
    for name in IGNORED_PARAMS:
        query.pop(name, None)
    for name in list(query):
        if not any(value.strip() for value in query.getlist(name)):
            query.pop(name)
    return query.urlencode()[:1000]


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
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_PHONE_TEXT = re.compile(r"^\+[\d ()-]+$")


def neutralise(value) -> str:
    """A spreadsheet must not run a cell as a formula: prefix risky starts with a quote. A number
    ("-12.50") or a valid phone number ("+7 916 638-38-11") cannot be one and stays as it is."""
    text = "" if value is None else str(value)
    if not text.startswith(FORMULA_STARTS):
        return text
    if _NUMBER.match(text) or (_PHONE_TEXT.match(text) and normalize_phone(text)):
        return text
    return "'" + text


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
