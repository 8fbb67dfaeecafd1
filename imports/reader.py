"""Reads an uploaded CSV or XLSX into rows of text cells, refusing files that are not what they claim.

CSV: encoding (UTF-8, UTF-8 with BOM, Windows-1251) and delimiter (comma, semicolon, tab) are
detected; quoted multi-line cells are kept. XLSX: the zip is inspected before openpyxl opens it
(total uncompressed size and compression ratio, so a zip bomb never expands), then read in
openpyxl's read-only mode; dates become ISO dates and numbers plain decimal text.
"""

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from django.utils.translation import gettext as _

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_XLSX_UNCOMPRESSED = 500 * 1024 * 1024
MAX_XLSX_RATIO = 100
MAX_COLUMNS = 200
DELIMITERS = (",", ";", "\t")
ENCODINGS = ("utf-8-sig", "utf-8", "cp1251")


class FileRefused(Exception):
    """The file cannot be imported; the message says why, in the user's language."""


@dataclass
class Table:
    file_format: str
    headers: list[str]
    encoding: str = ""
    delimiter: str = ""
    total_rows: int = 0
    sample: list[list[str]] = field(default_factory=list)


def file_format_of(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if suffix == ".xlsx":
        return "xlsx"
    raise FileRefused(_("Only CSV and XLSX files can be imported."))


# --- CSV ---------------------------------------------------------------------------
def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding). Refuses binary data."""
    if b"\x00" in data:
        raise FileRefused(_("This file is not a text CSV file (it contains binary data)."))
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ("utf-8-sig",)
    else:
        candidates = ("utf-8", "cp1251")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            break
        return text, encoding
    raise FileRefused(_("This file is not a text CSV file in UTF-8 or Windows-1251."))


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return controls > max(8, len(sample) // 100)


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the header line (outside quotes) most; comma when none does."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in text[:65536]:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch in "\r\n":
                break
            if ch in counts:
                counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(text: str, delimiter: str):
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                        strict=False)
    for row in reader:
        if row and any(cell != "" for cell in row):
            yield row


# --- XLSX --------------------------------------------------------------------------
def check_xlsx_container(path: Path) -> None:
    """Refuses a broken XLSX or a zip bomb without expanding anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused(_("This file is not a valid XLSX workbook.")) from None
    if "xl/workbook.xml" not in names:
        raise FileRefused(_("This file is not a valid XLSX workbook."))
    uncompressed = sum(info.file_size for info in infos)
    compressed = max(1, sum(info.compress_size for info in infos))
    if uncompressed > MAX_XLSX_UNCOMPRESSED or uncompressed / compressed > MAX_XLSX_RATIO:
        raise FileRefused(_("This workbook expands to an unreasonable size and was refused."))


def xlsx_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)


def _xlsx_rows(path: Path):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise FileRefused(_("This file is not a valid XLSX workbook.")) from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            row = [xlsx_cell(value) for value in values[:MAX_COLUMNS]]
            while row and row[-1] == "":
                row.pop()
            if row:
                yield row
    except FileRefused:
        raise
    except Exception:  # noqa: BLE001 - a broken sheet, whatever openpyxl raises
        raise FileRefused(_("This file is not a valid XLSX workbook.")) from None
    finally:
        workbook.close()


# --- Public API --------------------------------------------------------------------
def rows(path: Path, file_format: str, encoding: str = "", delimiter: str = ""):
    """Every row of the file, the header included, as lists of text cells."""
    if file_format == "xlsx":
        yield from _xlsx_rows(path)
        return
    data = Path(path).read_bytes()
    text = data.decode(encoding) if encoding else decode(data)[0]
    yield from _csv_rows(text, delimiter or detect_delimiter(text))


def inspect(path: Path, file_format: str, sample_size: int = 20) -> Table:
    """Reads the whole file once (so a broken one is refused now, not mid-import): header, row count, sample."""
    path = Path(path)
    if path.stat().st_size > MAX_UPLOAD_BYTES:
        raise FileRefused(_("The file is larger than 50 MB."))
    if file_format == "xlsx":
        check_xlsx_container(path)
        table = Table(file_format="xlsx", headers=[])
        iterator = _xlsx_rows(path)
    else:
        text, encoding = decode(path.read_bytes())
        delimiter = detect_delimiter(text)
        table = Table(file_format="csv", headers=[], encoding=encoding, delimiter=delimiter)
        try:
            iterator = _csv_rows(text, delimiter)
            header = next(iterator, None)
        except csv.Error:
            raise FileRefused(_("This CSV file cannot be read.")) from None
        return _fill(table, header, iterator, sample_size)
    return _fill(table, next(iterator, None), iterator, sample_size)


def _fill(table: Table, header, iterator, sample_size: int) -> Table:
    if not header:
        raise FileRefused(_("The file is empty."))
    if len(header) > MAX_COLUMNS:
        raise FileRefused(_("The file has more than %(count)s columns.") % {"count": MAX_COLUMNS})
    table.headers = [cell.strip() or _("Column %(number)s") % {"number": index + 1}
                     for index, cell in enumerate(header)]
    try:
        for row in iterator:
            table.total_rows += 1
            if len(table.sample) < sample_size:
                table.sample.append(row)
    except csv.Error:
        raise FileRefused(_("This CSV file cannot be read.")) from None
    if not table.total_rows:
        raise FileRefused(_("The file has a header but no rows."))
    return table
