"""A builder report as a file: CSV (UTF-8 with a BOM, for Excel and Cyrillic), XLSX and PDF. Numbers stay
numbers; text that a spreadsheet would run as a formula is neutralised (crm/list_tools.neutralise)."""

import csv
import io
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.text import slugify
from django.utils.translation import gettext as _

from crm.list_tools import neutralise
from reports.builder import MONEY, Result, display, export_value

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def headers(result: Result) -> list[str]:
    return [f"{column.label}, {settings.DEFAULT_CURRENCY}" if column.kind == MONEY else column.label
            for column in result.columns]


def _cells(result: Result, row: list) -> list:
    cells = []
    for value, column in zip(row, result.columns, strict=True):
        cell = export_value(value, column)
        cells.append(cell if isinstance(cell, int | float | Decimal) else neutralise(cell))
    return cells


def _table(result: Result) -> list[list]:
    rows = [_cells(result, row) for row in result.rows]
    if result.totals is not None:
        totals = _cells(result, result.totals)
        totals[0] = _("Total")
        rows.append(totals)
    return rows


def to_csv(result: Result) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 (Cyrillic names) only with a BOM
    writer = csv.writer(out)
    writer.writerow([neutralise(header) for header in headers(result)])
    writer.writerows(_table(result))
    return out.getvalue().encode()


def to_xlsx(result: Result, title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=(slugify(title, allow_unicode=True) or "report")[:31])
    sheet.append([neutralise(header) for header in headers(result)])
    for row in _table(result):
        sheet.append([float(cell) if isinstance(cell, Decimal) else cell for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(result: Result, title: str) -> bytes:
    from weasyprint import HTML

    rows = [[display(value, column) for value, column in zip(row, result.columns, strict=True)]
            for row in result.rows]
    totals = None
    if result.totals is not None:
        totals = [display(value, column) if value is not None else "" for value, column in
                  zip(result.totals, result.columns, strict=True)]
        totals[0] = _("Total")
    html = render_to_string("reports/report_pdf.html", {"title": title, "headers": headers(result), "rows": rows,
                                                        "totals": totals, "result": result})
    return HTML(string=html).write_pdf()


def file_name(title: str, format: str) -> str:
    return f"{slugify(title, allow_unicode=True) or 'report'}.{format}"
