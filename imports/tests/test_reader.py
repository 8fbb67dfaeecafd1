import csv
import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imports import reader

ALPHABET = "abcXYZ019 ,;\"'\n-=+@.абвгдАБВЁёжЯ№"
HEADER_ALPHABET = "abcxyzАБВгдё019 "


@settings(max_examples=60, deadline=None)
@given(
    columns=st.integers(min_value=2, max_value=5),
    data=st.data(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_any_table_reads_back_equal(tmp_path_factory, columns, data, encoding, delimiter):
    header = data.draw(st.lists(st.text(HEADER_ALPHABET, min_size=1, max_size=8).map(lambda t: "h" + t.strip()),
                                min_size=columns, max_size=columns))
    body = data.draw(st.lists(st.lists(st.text(ALPHABET, max_size=12), min_size=columns, max_size=columns)
                              .filter(lambda row: any(row)), min_size=1, max_size=8))
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows([header, *body])
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    table = reader.inspect(path, "csv")
    assert table.delimiter == delimiter
    assert list(reader.rows(path, "csv", table.encoding, table.delimiter)) == [header, *body]


def test_decimal_comma_and_dates():
    from imports.importers import parse_date, parse_decimal

    assert str(parse_decimal("1 234,56")) == "1234.56"
    assert str(parse_decimal("1\u00a0234,56")) == "1234.56"
    assert str(parse_decimal("1,234.56")) == "1234.56"
    assert parse_date("31.03.2024").isoformat() == "2024-03-31"


def test_xlsx_dates_and_numbers(tmp_path):
    import datetime

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Date", "Amount", "Count"])
    sheet.append(["Ivan", datetime.datetime(2024, 3, 31), 1234.5, 7])  # noqa: DTZ001 - Excel cells are naive
    path = tmp_path / "t.xlsx"
    workbook.save(path)
    table = reader.inspect(path, "xlsx")
    assert table.headers == ["Name", "Date", "Amount", "Count"]
    assert table.sample == [["Ivan", "2024-03-31", "1234.5", "7"]]


@pytest.mark.parametrize("content, message", [
    (b"PK\x03\x04\x00\x00binary\x00\x00", "binary"),
    (bytes(range(256)) * 10, "binary"),
])
def test_binary_renamed_csv_is_refused(tmp_path, content, message):
    path = tmp_path / "fake.csv"
    path.write_bytes(content)
    with pytest.raises(reader.FileRefused, match=message):
        reader.inspect(path, "csv")


def test_broken_xlsx_is_refused(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a zip at all")
    with pytest.raises(reader.FileRefused, match="not a valid XLSX"):
        reader.inspect(path, "xlsx")


def test_zip_bomb_is_refused_before_opening(tmp_path, monkeypatch):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 50_000_000)
    opened = []
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: opened.append(1))
    with pytest.raises(reader.FileRefused, match="unreasonable size"):
        reader.inspect(path, "xlsx")
    assert opened == []


def test_too_big_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_UPLOAD_BYTES", 10)
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n1,2\n3,4\n")
    with pytest.raises(reader.FileRefused, match="50 MB"):
        reader.inspect(path, "csv")
