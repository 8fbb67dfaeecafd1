"""vCard import and export: the parser and writer, the import service, and the two views."""

import codecs
import datetime
import re
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from contacts import vcard_views
from contacts.models import Contact, LeadSource
from contacts.services_vcard import contacts_import_vcard
from contacts.tests.factories import ContactFactory
from contacts.vcard import (
    MAX_BYTES,
    MAX_CARDS,
    UID_NAMESPACE,
    VCardError,
    contact_uid,
    contacts_to_vcard,
    fold,
    parse_vcards,
)
from crm.tests.factories import UserFactory


def card(*lines: str, version: str = "3.0") -> str:
    return "\r\n".join(["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD"]) + "\r\n"


def parse_one(text: str | bytes):
    results = parse_vcards(text.encode("utf-8") if isinstance(text, str) else text)
    assert len(results) == 1
    return results[0]


def physical_lines(text: str) -> list[str]:
    assert text.endswith("\r\n")
    lines = text[:-2].split("\r\n")
    assert not any("\r" in line or "\n" in line for line in lines), "only CRLF line endings"
    return lines


def unsaved_contact(pk=1, account=None, **fields) -> Contact:
    defaults = dict(first_name="Ada", middle_name="", last_name="Lovelace", emails=[], phones=[], tags=[])
    defaults.update(fields)
    contact = Contact(pk=pk, **defaults)
    if account is not None:
        contact.account = account
    return contact


# --- Writing -----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_round_trip_keeps_every_field(version):
    account = Account(pk=7, name="Acme, Inc.; Europe")
    contact = unsaved_contact(
        pk=42, account=account, first_name="Иван", middle_name="Иванович", last_name="O'Brien-Петров",
        title="Head of R&D, EMEA", department="Research; Development", emails=["ivan@example.com", "i@example.org"],
        phones=["+442079460000", "+79123456789"], birthday=datetime.date(1980, 5, 17),
        address="Flat 2\n10 Downing St", city="London", region="Greater London; UK", postal_code="SW1A 2AA",
        country="United Kingdom", website="https://example.com/people?id=1;x=2",
        phone_kinds={"+442079460000": "work", "+79123456789": "home"}, email_kinds={"i@example.org": "home"},
        description="Line one, with; all\\sorts\n"
        "Line two", tags=["VIP", "Partners, EU", "Клиенты"],
    )
    text = contacts_to_vcard([contact], version)
    result = parse_one(text)
    assert result.ok and not result.warnings
    parsed = result.contact
    assert (parsed.first_name, parsed.middle_name, parsed.last_name) == ("Иван", "Иванович", "O'Brien-Петров")
    assert parsed.full_name == "Иван Иванович O'Brien-Петров"
    assert parsed.organization == "Acme, Inc.; Europe"
    assert parsed.department == "Research; Development"
    assert parsed.title == "Head of R&D, EMEA"
    assert parsed.emails == ["ivan@example.com", "i@example.org"]
    assert parsed.phones == ["+442079460000", "+79123456789"]
    assert parsed.birthday == datetime.date(1980, 5, 17)
    assert parsed.address == contact.address
    assert (parsed.city, parsed.region, parsed.postal_code, parsed.country) == (
        "London", "Greater London; UK", "SW1A 2AA", "United Kingdom")
    assert parsed.website == "https://example.com/people?id=1;x=2"
    assert parsed.phone_kinds == {"+442079460000": "work", "+79123456789": "home"}
    assert parsed.email_kinds == {"i@example.org": "home"}
    assert parsed.note == contact.description
    assert parsed.tags == ["VIP", "Partners, EU", "Клиенты"]
    assert parsed.uid == contact_uid(42)


def test_version_4_writes_uri_phones_and_basic_dates():
    contact = unsaved_contact(phones=["+442079460000"], emails=["a@example.com"], birthday=datetime.date(1990, 1, 2))
    lines = physical_lines(contacts_to_vcard([contact], "4.0"))
    assert lines[:2] == ["BEGIN:VCARD", "VERSION:4.0"] and lines[-1] == "END:VCARD"
    assert "TEL;VALUE=uri;PREF=1:tel:+442079460000" in lines
    assert "EMAIL;PREF=1:a@example.com" in lines
    assert "BDAY:19900102" in lines
    assert any(re.fullmatch(r"REV:\d{8}T\d{6}Z", line) for line in lines)
    assert "N:Lovelace;Ada;;;" in lines and "FN:Ada Lovelace" in lines


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_mobile_numbers_are_typed_cell_on_export(version):
    """Issue 17: every phone was typed "voice". A mobile (+7 916 …, +44 7911 …) is "cell" now, read
    from the number; a landline stays voice. Russian and UK numbers, first one preferred."""
    contact = unsaved_contact(phones=["+79166383811", "+442079460000", "+447911123456"])
    lines = physical_lines(contacts_to_vcard([contact], version))
    if version == "4.0":
        assert lines.count("TEL;VALUE=uri;TYPE=cell;PREF=1:tel:+79166383811") == 1
        assert "TEL;VALUE=uri:tel:+442079460000" in lines and "TEL;VALUE=uri;TYPE=cell:tel:+447911123456" in lines
    else:
        assert "TEL;TYPE=cell,pref:+79166383811" in lines
        assert "TEL;TYPE=voice:+442079460000" in lines and "TEL;TYPE=cell:+447911123456" in lines
    assert parse_vcards(contacts_to_vcard([contact], version).encode())[0].contact.phones == contact.phones


def test_version_3_writes_text_phones_and_extended_dates():
    contact = unsaved_contact(phones=["+442079460000"], birthday=datetime.date(1990, 1, 2))
    lines = physical_lines(contacts_to_vcard([contact], "3.0"))
    assert lines[1] == "VERSION:3.0"
    assert "TEL;TYPE=voice,pref:+442079460000" in lines
    assert "BDAY:1990-01-02" in lines
    assert any(re.fullmatch(r"REV:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", line) for line in lines)


def test_uid_is_a_deterministic_urn_uuid_of_the_pk():
    assert contact_uid(5) == f"urn:uuid:{uuid.uuid5(UID_NAMESPACE, '5')}"
    assert contact_uid(5) == contact_uid(5) != contact_uid(6)
    text = contacts_to_vcard([unsaved_contact(pk=5)])
    assert f"UID:{contact_uid(5)}\r\n" in text


def test_unknown_version_is_refused():
    with pytest.raises(ValueError, match="version"):
        contacts_to_vcard([unsaved_contact()], "2.1")


def test_no_contacts_give_an_empty_file():
    assert contacts_to_vcard([]) == ""


def test_values_are_escaped():
    contact = unsaved_contact(last_name="Smith, Jr; \\the", description="a,b;c\\d\ne")
    text = contacts_to_vcard([contact])
    assert "N:Smith\\, Jr\\; \\\\the;Ada;;;\r\n" in text
    assert "NOTE:a\\,b\\;c\\\\d\\ne\r\n" in text


def test_control_characters_never_reach_the_file():
    contact = unsaved_contact(description="bell\x07 nul\x00 tab\tok")
    text = contacts_to_vcard([contact])
    assert "\x07" not in text and "\x00" not in text
    assert parse_one(text).contact.note == "bell nul tab\tok"


def test_account_names_mapping_hides_accounts_the_reader_may_not_see():
    contact = unsaved_contact(account=Account(pk=9, name="Secret Holdings"), department="Ops")
    assert "ORG:Secret Holdings;Ops" in contacts_to_vcard([contact])
    hidden = contacts_to_vcard([contact], account_names={})
    # Issue 17: no ORG with an empty company name; the department goes with the company it belongs to.
    assert "Secret Holdings" not in hidden and "ORG:" not in hidden


# --- Folding -----------------------------------------------------------------------


def test_fold_keeps_lines_within_75_octets_and_whole_utf8_characters():
    line = "NOTE:" + "ж" * 100 + "😀" * 30 + "x" * 200
    folded = fold(line)
    parts = folded.split("\r\n")
    assert len(parts) > 3
    assert all(len(part.encode("utf-8")) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join([parts[0]] + [part[1:] for part in parts[1:]]) == line


def test_short_lines_are_not_folded():
    assert fold("FN:" + "a" * 72) == "FN:" + "a" * 72
    assert "\r\n" in fold("FN:" + "a" * 73)


def test_long_exported_values_are_folded_and_read_back():
    note = ("Очень длинная заметка, с запятыми; и точками с запятой. " * 20).strip()
    text = contacts_to_vcard([unsaved_contact(description=note)])
    lines = physical_lines(text)
    assert max(len(line.encode("utf-8")) for line in lines) <= 75
    assert parse_one(text).contact.note == note


def test_fold_that_cut_a_utf8_character_is_joined_before_decoding():
    encoded = "NOTE:Привет".encode()
    cut = encoded[:-1] + b"\r\n " + encoded[-1:]  # the last letter's two bytes split by the fold
    data = b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:X;;;;\r\n" + cut + b"\r\nEND:VCARD\r\n"
    assert parse_one(data).contact.note == "Привет"


def test_tab_folding_and_lf_line_endings():
    text = "BEGIN:VCARD\nVERSION:3.0\nN:Sm\n\tith;John;;;\nNOTE:one\n  two\nEND:VCARD\n"
    parsed = parse_one(text).contact
    assert parsed.last_name == "Smith" and parsed.note == "one two"


def test_old_mac_cr_line_endings():
    parsed = parse_one("BEGIN:VCARD\rVERSION:3.0\rFN:Ann Lee\rEND:VCARD\r").contact
    assert (parsed.first_name, parsed.last_name) == ("Ann", "Lee")


# --- Property test -------------------------------------------------------------------

# Pieces that stress escaping and folding: separators, backslashes that look like escapes,
# newlines, Cyrillic (2-byte UTF-8) and emoji (4-byte), besides any printable character.
PIECES = st.one_of(
    st.sampled_from([",", ";", ":", "\\", "\n", " ", "\t", '"', "^", "=", "\\n", "\\,", "\\;", "ж", "Ё", "ї", "😀"]),
    st.characters(min_codepoint=0x400, max_codepoint=0x4FF),
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
)


def texts(min_size=0, max_size=120):
    return st.lists(PIECES, min_size=min_size, max_size=max_size).map("".join)


TEXT = texts()
NAME = texts(min_size=1, max_size=60).filter(lambda s: s.strip())
TAG = texts(min_size=1, max_size=25).map(lambda s: " ".join(s.split())[:50]).filter(
    lambda s: s and s.lower() != "mycontacts")
PHONES = st.lists(st.sampled_from(["+442079460000", "+442079460001", "+79123456789", "+14155552671"]),
                  unique=True, max_size=3)


def one_line(text: str) -> str:
    return " ".join(text.split())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    version=st.sampled_from(["3.0", "4.0"]), first=TEXT, middle=TEXT, last=NAME, title=TEXT, department=TEXT,
    company=TEXT, note=texts(max_size=400), address=TEXT,
    tags=st.lists(TAG, max_size=5, unique_by=str.lower), phones=PHONES,
    emails=st.lists(st.emails(), max_size=3, unique=True),
    birthday=st.none() | st.dates(min_value=datetime.date(1, 1, 1)),
)
def test_export_then_parse_gives_the_same_data(version, first, middle, last, title, department, company, note,
                                               address, tags, phones, emails, birthday):
    account = Account(pk=3, name=company) if company else None
    contact = unsaved_contact(
        pk=11, account=account, first_name=first, middle_name=middle, last_name=last, title=title,
        department=department, description=note, address=address, tags=tags, phones=phones, emails=emails,
        birthday=birthday,
    )
    text = contacts_to_vcard([contact], version)
    assert all(len(line.encode("utf-8")) <= 75 for line in physical_lines(text))

    result = parse_one(text)
    assert result.ok, result.error
    parsed = result.contact
    assert parsed.last_name == one_line(last)
    assert parsed.first_name == one_line(first)
    assert parsed.middle_name == one_line(middle)
    assert parsed.title == one_line(title)
    assert parsed.organization == (one_line(company) if company else "")
    assert parsed.department == (one_line(department) if company else "")
    assert parsed.note == note.strip()
    assert parsed.address == address.strip()
    assert parsed.tags == tags
    assert parsed.phones == phones
    assert parsed.emails == emails
    assert parsed.birthday == birthday


# --- Reading: encodings, parameters, properties ------------------------------------------


def test_utf8_with_bom_and_cyrillic():
    data = codecs.BOM_UTF8 + card("N:Шевченко;Тарас;Григорович;;", "FN:Тарас Шевченко").encode()
    parsed = parse_one(data).contact
    assert (parsed.first_name, parsed.middle_name, parsed.last_name) == ("Тарас", "Григорович", "Шевченко")


def test_windows_1251_fallback():
    data = card("N:Иванов;Пётр;;;", "ORG:ООО Ромашка", "NOTE:Позвонить в понедельник").encode("cp1251")
    parsed = parse_one(data).contact
    assert parsed.last_name == "Иванов" and parsed.first_name == "Пётр"
    assert parsed.organization == "ООО Ромашка" and parsed.note == "Позвонить в понедельник"


def test_utf16_with_bom():
    data = card("FN:Zoë Ådler", "EMAIL:zoe@example.com").encode("utf-16")
    parsed = parse_one(data).contact
    assert parsed.last_name == "Ådler" and parsed.emails == ["zoe@example.com"]


def test_escapes_in_values():
    parsed = parse_one(card("N:Doe\\, Jr.;John;;;", "NOTE:a\\nb\\Nc\\,d\\;e\\\\f\\:g", "TITLE:C:\\temp")).contact
    assert parsed.last_name == "Doe, Jr."
    assert parsed.note == "a\nb\nc,d;e\\f:g"
    assert parsed.title == "C:\\temp"  # an unknown escape keeps its backslash


def test_parameters_types_preference_and_groups():
    parsed = parse_one(card(
        "N:Roe;Jane;;;",
        "EMAIL;TYPE=work:work@example.com",
        "item1.EMAIL;TYPE=home,pref:home@example.com",
        'TEL;TYPE="work,voice":+44 20 7946 0001',
        "TEL;TYPE=work,cell;PREF=1:+44 7700 900123",
        "TEL;TYPE=work;TYPE=cell:+44 20 7946 0001",
        "item1.X-ABLabel:Home",
    )).contact
    assert parsed.emails == ["home@example.com", "work@example.com"]
    assert parsed.phones == ["+44 7700 900123", "+44 20 7946 0001"]  # preferred first, duplicates once


def test_quoted_parameter_values_may_hold_colons_and_semicolons():
    parsed = parse_one(card('N:Poe;Ed;;;', 'ADR;LABEL="1 Main St; Town: X":;;1 Main St;Town;;;X')).contact
    assert (parsed.address, parsed.city, parsed.country) == ("1 Main St", "Town", "X")


def test_tel_uri_values_in_version_4():
    parsed = parse_one(card("FN:Al Bo", "TEL;VALUE=uri;TYPE=cell:tel:+44-20-7946-0000",
                            "TEL;VALUE=uri:tel:+44-20-7946-0002;ext=123", version="4.0")).contact
    assert parsed.phones == ["+44-20-7946-0000", "+44-20-7946-0002 ext. 123"]


def test_name_from_n_with_several_values_per_component():
    parsed = parse_one(card("N:Stevenson;John;Philip,Paul;Dr.;Jr.,M.D.", "FN:Dr. John Stevenson")).contact
    assert (parsed.first_name, parsed.middle_name, parsed.last_name) == ("John", "Philip Paul", "Stevenson")
    assert parsed.prefix == "Dr." and parsed.suffix == "Jr. M.D."


def test_name_from_fn_when_n_is_missing_or_empty():
    assert parse_one(card("FN:Mary Ann Smith")).contact.last_name == "Smith"
    parsed = parse_one(card("N:;;;Dr.;", "FN:Dr. Mary Ann Smith")).contact
    assert (parsed.first_name, parsed.middle_name, parsed.last_name) == ("Mary", "Ann", "Smith")
    assert parse_one(card("FN:Cher")).contact.last_name == "Cher"
    assert parse_one(card("N:;Madonna;;;")).contact.last_name == "Madonna"


def test_org_second_component_is_the_department_and_title_falls_back_to_role():
    parsed = parse_one(card("FN:A B", "ORG:ABC\\, Inc.;North America;Marketing", "ROLE:Project lead")).contact
    assert parsed.organization == "ABC, Inc."
    assert parsed.department == "North America / Marketing"
    assert parsed.title == "Project lead"
    assert parse_one(card("FN:A B", "ROLE:Lead", "TITLE:Director")).contact.title == "Director"


@pytest.mark.parametrize(("value", "expected"), [
    ("1980-05-17", datetime.date(1980, 5, 17)),
    ("19800517", datetime.date(1980, 5, 17)),
    ("1980-05-17T00:00:00Z", datetime.date(1980, 5, 17)),
    ("19800517T000000", datetime.date(1980, 5, 17)),
])
def test_birthday_formats(value, expected):
    result = parse_one(card("FN:A B", f"BDAY:{value}"))
    assert result.contact.birthday == expected and not result.warnings


@pytest.mark.parametrize("line", ["BDAY:--0517", "BDAY:--05-17", "BDAY;X-APPLE-OMIT-YEAR=1604:1604-05-17"])
def test_birthday_without_a_year_is_skipped_with_a_warning(line):
    result = parse_one(card("FN:A B", line))
    assert result.ok and result.contact.birthday is None
    assert "no year" in result.warnings[0]


@pytest.mark.parametrize("value", ["1980-13-45", "circa 1980", "1985"])
def test_unreadable_birthday_is_a_warning_not_a_failure(value):
    result = parse_one(card("FN:A B", f"BDAY:{value}"))
    assert result.ok and result.contact.birthday is None
    assert value in result.warnings[0]


def test_the_preferred_address_fills_the_address_fields_and_others_follow_as_text():
    parsed = parse_one(card(
        "FN:A B",
        "ADR;TYPE=home:;;10 Elm St;Springfield;IL;62701;USA",
        "ADR;TYPE=work;TYPE=pref:PO Box 5;Suite 400;1 Main St\\nBuilding 2;London;;SW1A 1AA;UK",
    )).contact
    assert parsed.address == "1 Main St\nBuilding 2\nSuite 400\nPO Box 5\n\n10 Elm St\nSpringfield, IL, 62701\nUSA"
    assert (parsed.city, parsed.region, parsed.postal_code, parsed.country) == ("London", "", "SW1A 1AA", "UK")


def test_label_is_used_when_there_is_no_adr():
    assert parse_one(card("FN:A B", "LABEL:1 Main St\\nLondon")).contact.address == "1 Main St\nLondon"


def test_notes_and_categories():
    parsed = parse_one(card("FN:A B", "NOTE:first", "NOTE:second", "CATEGORIES:VIP,Golf\\, tennis,vip",
                            "CATEGORIES:myContacts,Board", "CATEGORIES:" + "x" * 60)).contact
    assert parsed.note == "first\n\nsecond"
    assert parsed.tags == ["VIP", "Golf, tennis", "Board", "x" * 50]


def test_long_category_is_shortened_with_a_warning():
    result = parse_one(card("FN:A B", "CATEGORIES:" + "y" * 60))
    assert result.contact.tags == ["y" * 50] and "shortened" in result.warnings[0]


def test_property_names_and_keywords_are_case_insensitive():
    parsed = parse_one("begin:vcard\r\nversion:3.0\r\nn:Low;Case;;;\r\nemail;type=work:l@example.com\r\nend:vcard\r\n")
    assert parsed.contact.last_name == "Low" and parsed.contact.emails == ["l@example.com"]


# --- Real-world samples ----------------------------------------------------------------

APPLE = """BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//macOS 14.5//EN
N:Appleseed;Johnny;;;
FN:Johnny Appleseed
ORG:Apple Inc.;Engineering
TITLE:Senior Engineer
item1.EMAIL;type=INTERNET;type=pref:Johnny@Example.COM
EMAIL;type=INTERNET;type=HOME:johnny.home@example.com
item2.TEL;type=pref:+44 20 7946 0958
item2.X-ABLabel:_$!<Mobile>!$_
TEL;type=CELL;type=VOICE:07911 123456
item3.ADR;type=WORK;type=pref:;;1 Infinite Loop;Cupertino;CA;95014;United States
item3.X-ABADR:us
NOTE:Met at WWDC\\, loves \\;semicolons\\;\\nSecond line
BDAY;X-APPLE-OMIT-YEAR=1604:1604-05-17
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEx
 8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDR
CATEGORIES:VIP,Partners
X-SOCIALPROFILE;type=twitter:https://twitter.com/johnny
END:VCARD
BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//macOS 14.5//EN
N:;;;;
FN:Acme Widgets Ltd
ORG:Acme Widgets Ltd;
X-ABShowAs:COMPANY
END:VCARD
""".replace("\n", "\r\n")

GOOGLE = """BEGIN:VCARD
VERSION:3.0
FN:Мария Иванова
N:Иванова;Мария;;;
EMAIL;TYPE=INTERNET;TYPE=WORK:maria@example.ru
TEL;TYPE=CELL:+7 912 345-67-89
ADR;TYPE=HOME:;;ул. Ленина\\, д. 1;Москва;;101000;Россия
ORG:ООО Ромашка
TITLE:Директор
BDAY:1985-03-09
NOTE:Любит чай
CATEGORIES:myContacts,Клиенты
END:VCARD
"""

OUTLOOK = """BEGIN:VCARD
VERSION:2.1
N;LANGUAGE=en-us:Contoso;Pat;;Mr.;
FN:Pat Contoso
ORG:Contoso Ltd;Purchasing
TITLE:Buyer
TEL;WORK;VOICE:020 7946 0123
TEL;HOME;VOICE:(425) 555-0100
TEL;CELL;VOICE:+44 7700 900456
ADR;WORK;PREF:;;One Microsoft Way;Redmond;WA;98052;United States of America
LABEL;WORK;PREF;ENCODING=QUOTED-PRINTABLE:One Microsoft Way=0D=0ARedmond, WA 98052
X-MS-OL-DEFAULT-POSTAL-ADDRESS:2
EMAIL;PREF;INTERNET:Pat@Contoso.com
NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Prefers =D0=BF=D0=BE=D1=87=D1=82=D0=B0 (e-mail).=0D=0A=
Second line
REV:20240115T101500Z
END:VCARD
""".replace("\n", "\r\n")


def test_apple_contacts_export():
    person, company = parse_vcards(APPLE.encode())
    assert person.ok
    parsed = person.contact
    assert (parsed.first_name, parsed.last_name) == ("Johnny", "Appleseed")
    assert (parsed.organization, parsed.department, parsed.title) == ("Apple Inc.", "Engineering", "Senior Engineer")
    assert parsed.emails == ["Johnny@Example.COM", "johnny.home@example.com"]
    assert parsed.phones == ["+44 20 7946 0958", "07911 123456"]
    assert (parsed.address, parsed.city, parsed.region, parsed.postal_code, parsed.country) == (
        "1 Infinite Loop", "Cupertino", "CA", "95014", "United States")
    assert parsed.note == "Met at WWDC, loves ;semicolons;\nSecond line"
    assert parsed.birthday is None and "no year" in person.warnings[0]
    assert parsed.tags == ["VIP", "Partners"]
    assert not company.ok and company.error.startswith("Card 2 (Acme Widgets Ltd)") and "company" in company.error


def test_google_contacts_export_without_crlf():
    (result,) = parse_vcards(GOOGLE.encode())
    parsed = result.contact
    assert (parsed.first_name, parsed.last_name) == ("Мария", "Иванова")
    assert parsed.emails == ["maria@example.ru"] and parsed.phones == ["+7 912 345-67-89"]
    assert (parsed.address, parsed.city, parsed.postal_code, parsed.country) == (
        "ул. Ленина, д. 1", "Москва", "101000", "Россия")
    assert parsed.organization == "ООО Ромашка" and parsed.title == "Директор"
    assert parsed.birthday == datetime.date(1985, 3, 9)
    assert parsed.tags == ["Клиенты"]  # Google's "myContacts" system group is not a tag


def test_outlook_21_export_with_bare_parameters_and_quoted_printable():
    (result,) = parse_vcards(OUTLOOK.encode())
    parsed = result.contact
    assert (parsed.first_name, parsed.last_name, parsed.prefix) == ("Pat", "Contoso", "Mr.")
    assert (parsed.organization, parsed.department) == ("Contoso Ltd", "Purchasing")
    assert parsed.emails == ["Pat@Contoso.com"]
    assert parsed.phones == ["020 7946 0123", "(425) 555-0100", "+44 7700 900456"]
    assert (parsed.address, parsed.city, parsed.region, parsed.postal_code, parsed.country) == (
        "One Microsoft Way", "Redmond", "WA", "98052", "United States of America")
    assert parsed.note == "Prefers почта (e-mail).\nSecond line"


# --- Malformed input ------------------------------------------------------------------


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"   \r\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
    (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n", "BEGIN:VCARD"),
    (b"first_name,last_name\nAda,Lovelace\n", "BEGIN:VCARD"),
])
def test_input_that_is_not_vcard_is_refused_as_a_whole(data, message):
    with pytest.raises(VCardError, match=message):
        parse_vcards(data)


def test_too_large_file_is_refused():
    data = card("FN:A B").encode() + b"NOTE:" + b"x" * MAX_BYTES
    with pytest.raises(VCardError, match="10 MB"):
        parse_vcards(data)


def test_too_many_cards_are_refused():
    data = (card("FN:A B").encode()) * (MAX_CARDS + 1)
    with pytest.raises(VCardError, match="10000"):
        parse_vcards(data)


def test_one_bad_card_never_stops_the_others():
    data = "".join([
        card("FN:Good One"),
        card("EMAIL:nobody@example.com"),
        card("N:;;;;", "FN:"),
        card("KIND:org", "FN:Acme Corp", version="4.0"),
        card("KIND:group", "FN:Friends", version="4.0"),
        card("FN:Good Two"),
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut Off\r\n",
    ])
    results = parse_vcards(data.encode())
    assert [r.ok for r in results] == [True, False, False, False, False, True, False]
    assert results[1].error == "Card 2: no name (the card has neither N nor FN)."
    assert results[2].error.startswith("Card 3: no name")
    assert "Card 4 (Acme Corp)" in results[3].error and "a company" in results[3].error
    assert "a group" in results[4].error
    assert "Card 7 (Cut Off)" in results[6].error and "END:VCARD" in results[6].error


def test_missing_end_before_the_next_card_fails_only_that_card():
    data = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No End\r\n" + card("FN:Next Card")
    first, second = parse_vcards(data.encode())
    assert not first.ok and "END:VCARD" in first.error
    assert second.ok and second.contact.last_name == "Card"


def test_junk_lines_inside_and_outside_cards_are_ignored():
    data = "Some header text\r\n" + card("FN:A B", "this line is not a property", ":no name", "NOTE:kept") + "trailer"
    assert parse_one(data).contact.note == "kept"


def test_nested_agent_card_is_skipped():
    data = card("FN:Boss Person", "AGENT:", "BEGIN:VCARD", "VERSION:2.1", "FN:Assistant", "END:VCARD", "TITLE:CEO",
                version="2.1")
    parsed = parse_one(data).contact
    assert parsed.last_name == "Person" and parsed.title == "CEO"


# --- Import service -----------------------------------------------------------------------


def test_import_creates_contacts_owned_by_the_actor(owner):
    report = contacts_import_vcard(actor=owner, data=APPLE.encode())
    assert (report.total, report.created, report.failed) == (2, 1, 1)
    contact = Contact.objects.get()
    assert contact.owner == owner and contact.team_id == owner.team_id
    assert contact.full_name == "Johnny Appleseed"
    assert contact.emails == ["johnny@example.com", "johnny.home@example.com"]
    assert contact.phones == ["+442079460958", "+447911123456"]
    assert contact.tags == ["VIP", "Partners"]
    assert contact.department == "Engineering" and contact.title == "Senior Engineer"
    assert contact.lead_source == LeadSource.IMPORT
    assert contact.account.name == "Apple Inc." and contact.account.owner == owner  # created by the import
    assert report.contact_ids == [contact.pk]
    assert "Card 2 (Acme Widgets Ltd)" in report.errors[0]
    assert any("“Apple Inc.” was created" in warning for warning in report.warnings)
    assert any("has no year" in warning for warning in report.warnings)
    assert not any("Card 2" in warning for warning in report.warnings)  # a failed card only has its error


def test_invalid_phone_and_email_are_reported_not_silently_dropped(owner):
    long_email = "a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".com"
    report = contacts_import_vcard(actor=owner, data=card(
        "FN:Pat Contoso", "TEL:12", "TEL:+44 20 7946 0123", "EMAIL:not-an-email", "EMAIL:Pat@Example.com",
        f"EMAIL:{long_email}").encode())
    contact = Contact.objects.get()
    assert contact.phones == ["+442079460123"] and contact.emails == ["pat@example.com"]
    assert report.created == 1
    assert any("“12” is not a valid phone number" in warning for warning in report.warnings)
    assert any("“not-an-email” is not a valid e-mail address" in warning for warning in report.warnings)
    assert any(long_email in warning for warning in report.warnings)


def test_kinds_website_and_address_fields_are_kept_by_the_import(owner):
    """Issue 17: phone and e-mail types, URL and the structured address were lost on import."""
    owner.phone_region = "RU"
    owner.save(update_fields=["phone_region"])
    report = contacts_import_vcard(actor=owner, data=card(
        "FN:Ольга Смирнова", "TEL;TYPE=CELL:8 (912) 345-67-89", "TEL;TYPE=WORK,VOICE:+7 495 123-45-67",
        "TEL:+7 495 765-43-21", "EMAIL;TYPE=WORK:olga@firma.ru", "EMAIL;TYPE=HOME:olga@mail.ru",
        "URL:https://firma.ru/olga", "ADR;TYPE=WORK:;;ул. Тверская\\, д. 7;Москва;;125009;Россия").encode())
    contact = Contact.objects.get()
    assert report.created == 1 and not report.warnings
    assert contact.phones == ["+79123456789", "+74951234567", "+74957654321"]
    assert contact.phone_kinds == {"+79123456789": "mobile", "+74951234567": "work"}
    assert contact.email_kinds == {"olga@firma.ru": "work", "olga@mail.ru": "home"}
    assert contact.website == "https://firma.ru/olga"
    assert (contact.address, contact.city, contact.postal_code, contact.country) == (
        "ул. Тверская, д. 7", "Москва", "125009", "Россия")
    lines = physical_lines(contacts_to_vcard([contact], "3.0"))
    assert "TEL;TYPE=cell,pref:+79123456789" in lines and "TEL;TYPE=work:+74951234567" in lines
    assert "EMAIL;TYPE=internet,work,pref:olga@firma.ru" in lines and "URL:https://firma.ru/olga" in lines
    assert "ADR:;;ул. Тверская\\, д. 7;Москва;;125009;Россия" in lines


def test_a_bad_website_is_a_warning_and_the_card_is_still_imported(owner):
    report = contacts_import_vcard(actor=owner, data=card("FN:A B", "URL:javascript:alert(1)").encode())
    assert report.created == 1 and Contact.objects.get().website == ""
    report = contacts_import_vcard(actor=owner, data=card("FN:C D", "URL:https://exa mple.com").encode())
    assert report.created == 1 and any("not a valid web address" in warning for warning in report.warnings)


def test_kinds_follow_the_numbers_they_describe(owner):
    contact = Contact.objects.create(owner=owner, last_name="Kim", phones=["+79123456789", "+74951234567"],
                                     phone_kinds={"+79123456789": "mobile", "+74951234567": "work"},
                                     emails=["a@b.example"], email_kinds={"a@b.example": "home", "x@y.example": "work"})
    assert contact.email_kinds == {"a@b.example": "home"}  # a kind for an address the contact lacks is dropped
    contact.phones = ["+74951234567"]
    contact.save(update_fields=["phones"])
    contact.refresh_from_db()
    assert contact.phone_kinds == {"+74951234567": "work"}


def test_duplicate_numbers_in_different_formats_are_stored_once(owner):
    contacts_import_vcard(actor=owner, data=card("FN:A B", "TEL:020 7946 0123", "TEL;TYPE=work:+44 20 7946 0123",
                                                 "EMAIL:A@B.example", "EMAIL:a@b.example").encode())
    contact = Contact.objects.get()
    assert contact.phones == ["+442079460123"] and contact.emails == ["a@b.example"]


def test_org_links_exactly_one_visible_account(owner, outsider):
    mine = AccountFactory(owner=owner, name="Globex")
    AccountFactory(owner=outsider, name="Initech")  # hidden from owner
    AccountFactory(owner=owner, name="Twin Co")
    AccountFactory(owner=owner, name="Twin Co")
    report = contacts_import_vcard(actor=owner, data="".join([
        card("FN:Ann Globex", "ORG:Globex;Sales"),
        card("FN:Ian Initech", "ORG:Initech"),
        card("FN:Tom Twin", "ORG:Twin Co"),
        card("FN:Gil Lower", "ORG:globex"),  # exact name only
    ]).encode())
    assert report.created == 4
    by_name = {c.last_name: c for c in Contact.objects.all()}
    assert by_name["Globex"].account == mine and by_name["Globex"].department == "Sales"
    assert by_name["Initech"].account is None  # never linked to an account the actor cannot see
    assert by_name["Twin"].account is None
    assert by_name["Lower"].account is None
    assert any("several accounts are named “Twin Co”" in warning for warning in report.warnings)
    assert any("no account named “Initech”" in warning for warning in report.warnings)


def test_an_org_without_any_account_creates_it_once_and_odd_phones_are_kept_for_review(owner, settings):
    """Issue 17: an ORG with no account was dropped and an unreadable number lost. The account is created
    (once for all its cards, like the contacts import), never beside an existing one of that name."""
    AccountFactory(owner=owner, name="Globex")
    report = contacts_import_vcard(actor=owner, data="".join([
        card("FN:Иван Петров", "ORG:ООО «Ромашка»;Отдел закупок", "TEL:8 (916) 638-38-11"),
        card("FN:Ольга Сидорова", "ORG:ООО «Ромашка»", "TEL:доб. 12"),
        card("FN:Gil Lower", "ORG:globex"),
    ]).encode())
    assert report.created == 3
    romashka = Account.objects.get(name="ООО «Ромашка»")
    assert romashka.owner == owner and Account.objects.count() == 2  # no second "globex"
    by_name = {c.last_name: c for c in Contact.objects.all()}
    assert by_name["Петров"].account == romashka and by_name["Петров"].department == "Отдел закупок"
    assert by_name["Сидорова"].account == romashka and by_name["Lower"].account is None
    assert by_name["Сидорова"].phones == [] and by_name["Сидорова"].phones_to_check == ["доб. 12"]
    assert any("“ООО «Ромашка»” was created" in warning for warning in report.warnings)
    assert any("kept under “phone numbers to check”" in warning for warning in report.warnings)


def test_deleted_accounts_are_not_linked(owner):
    from django.utils import timezone

    gone = AccountFactory(owner=owner, name="Gone Ltd", deleted_at=timezone.now())
    contacts_import_vcard(actor=owner, data=card("FN:A B", "ORG:Gone Ltd").encode())
    linked = Contact.objects.get().account
    assert linked != gone and linked.deleted_at is None  # a new live account, never the one in the recycle bin


def test_card_with_a_field_too_long_fails_alone(owner):
    report = contacts_import_vcard(actor=owner, data=(card("N:" + "L" * 150 + ";Ann;;;") + card("FN:Bob Ok")).encode())
    assert (report.created, report.failed) == (1, 1)
    assert report.errors[0].startswith("Card 1 (Ann ") and "last name" in report.errors[0]
    assert "at most 100 characters" in report.errors[0]
    assert Contact.objects.get().last_name == "Ok"


def test_file_that_is_not_vcard_writes_nothing(owner):
    with pytest.raises(VCardError):
        contacts_import_vcard(actor=owner, data=b"\x00\x01\x02binary")
    assert not Contact.objects.exists()


def test_roles_without_write_access_cannot_import(executive, support_agent):
    for user in (executive, support_agent):
        with pytest.raises(PermissionDenied):
            contacts_import_vcard(actor=user, data=card("FN:A B").encode())
    assert not Contact.objects.exists()


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_export_then_import_through_the_database(version, owner, teammate):
    account = AccountFactory(owner=owner, name="Umbrella, plc", shared_with_team=True)
    original = ContactFactory(
        owner=owner, first_name="Олена", middle_name="Петрівна", last_name="Коваль", title="CFO",
        department="Finance; Treasury", account=account, emails=["olena@example.com", "o.k@example.org"],
        phones=["+442079460000", "+380441234567"], birthday=datetime.date(1979, 12, 31),
        address="вул. Хрещатик, 1\nКиїв\nУкраїна", description="Prefers calls after 10:00;\nspeaks EN, UA",
        tags=["VIP", "Board, advisory"],
    )
    text = contacts_to_vcard(Contact.objects.filter(pk=original.pk).select_related("account"), version)
    report = contacts_import_vcard(actor=teammate, data=text.encode())
    assert (report.created, report.failed) == (1, 0), report.errors
    copy = Contact.objects.get(pk=report.contact_ids[0])
    fields = ["first_name", "middle_name", "last_name", "title", "department", "account_id", "emails", "phones",
              "birthday", "address", "description", "tags"]
    assert {f: getattr(copy, f) for f in fields} == {f: getattr(original, f) for f in fields}
    assert copy.owner == teammate


def test_import_is_recorded_in_the_history(owner):
    from django.apps import apps

    contacts_import_vcard(actor=owner, data=card("FN:A B").encode())
    event_model = apps.get_model("contacts", "ContactEvent")
    event = event_model.objects.get(pgh_obj=Contact.objects.get())
    assert event.pgh_label == "insert" and event.pgh_context.metadata["source"] == "vcard_import"
    assert event.pgh_context.metadata["actor"] == owner.pk  # the history names who imported, not "system"


# --- Views ----------------------------------------------------------------------------------


def upload(content: bytes, name: str = "contacts.vcf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/vcard")


def test_import_page_shows_the_upload_form(client, owner):
    client.force_login(owner)
    response = client.get(reverse("contacts:vcard_import"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'enctype="multipart/form-data"' in body and 'type="file"' in body
    assert reverse("contacts:vcard_export") + "?version=3.0" in body
    assert "<script>" not in body and " style=" not in body  # strict CSP: nothing inline


def test_import_upload_creates_contacts_and_shows_the_report(client, owner):
    client.force_login(owner)
    data = (card("FN:Ann Able", "TEL:12") + card("EMAIL:x@example.com") + card("FN:Bob Baker")).encode()
    response = client.post(reverse("contacts:vcard_import"), {"file": upload(data)})
    assert response.status_code == 200
    body = response.content.decode()
    assert Contact.objects.filter(owner=owner).count() == 2
    assert 'id="vcard-created">2<' in body and 'id="vcard-failed">1<' in body
    assert "Card 2: no name" in body
    assert "“12” is not a valid phone number" in body
    assert "2 contacts were imported." in body


def test_long_reports_are_shortened_on_the_page(client, owner):
    client.force_login(owner)
    data = card("FN:Only Good").encode() + card("EMAIL:x@example.com").encode() * 205
    body = client.post(reverse("contacts:vcard_import"), {"file": upload(data)}).content.decode()
    assert 'id="vcard-failed">205<' in body
    assert body.count("no name (the card") == 200 and "…and 5 more cards." in body


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "photo.vcf", "binary data"),
    (b"name,email\nAda,ada@example.com\n", "people.vcf", "no BEGIN:VCARD"),
    (card("FN:A B").encode(), "people.csv", "its name ends with .vcf"),
    (b"", "empty.vcf", "The submitted file is empty"),
])
def test_bad_upload_says_why_and_writes_nothing(client, owner, content, name, message):
    client.force_login(owner)
    response = client.post(reverse("contacts:vcard_import"), {"file": upload(content, name)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Contact.objects.exists()


def test_upload_over_10_mb_is_refused(client, owner):
    client.force_login(owner)
    data = card("FN:A B", "NOTE:" + "x" * MAX_BYTES).encode()
    response = client.post(reverse("contacts:vcard_import"), {"file": upload(data)})
    assert "larger than 10 MB" in response.content.decode()
    assert not Contact.objects.exists()


def test_import_without_a_file_asks_for_one(client, owner):
    client.force_login(owner)
    response = client.post(reverse("contacts:vcard_import"), {})
    assert response.status_code == 200 and "This field is required" in response.content.decode()


def test_read_only_roles_get_403_on_import(client, executive):
    client.force_login(executive)
    assert client.get(reverse("contacts:vcard_import")).status_code == 403
    response = client.post(reverse("contacts:vcard_import"), {"file": upload(card("FN:A B").encode())})
    assert response.status_code == 403 and not Contact.objects.exists()


def test_anonymous_users_are_sent_to_sign_in(client):
    for name in ("contacts:vcard_import", "contacts:vcard_export"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/auth/login/" in response["Location"]


def exported(client, **params) -> str:
    response = client.get(reverse("contacts:vcard_export"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    return response.content.decode()


def test_export_contains_only_what_the_user_may_see(client, owner, teammate, outsider):
    mine = ContactFactory(owner=owner, last_name="Mine")
    shared = ContactFactory(owner=teammate, last_name="Shared", shared_with_team=True)
    private = ContactFactory(owner=teammate, last_name="TeammatePrivate")
    theirs = ContactFactory(owner=outsider, last_name="Outsiders")
    ContactFactory(owner=owner, last_name="Deleted", deleted_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
    client.force_login(owner)
    body = exported(client)
    assert body.count("BEGIN:VCARD") == 2
    assert contact_uid(mine.pk) in body and contact_uid(shared.pk) in body
    assert contact_uid(private.pk) not in body and contact_uid(theirs.pk) not in body
    assert "Outsiders" not in body and "Deleted" not in body


def test_forged_ids_of_hidden_contacts_are_simply_not_exported(client, owner, outsider):
    mine = ContactFactory(owner=owner, last_name="Mine")
    ContactFactory(owner=owner, last_name="AlsoMine")
    theirs = ContactFactory(owner=outsider, last_name="Outsiders")
    client.force_login(owner)
    body = exported(client, ids=f"{mine.pk},{theirs.pk}")
    assert body.count("BEGIN:VCARD") == 1 and "N:Mine;" in body
    assert "Outsiders" not in body and "AlsoMine" not in body
    assert exported(client, ids=str(theirs.pk)) == ""


def test_outsider_never_gets_the_owners_contacts(client, owner, outsider):
    contact = ContactFactory(owner=owner, last_name="Secret", emails=["secret@example.com"])
    client.force_login(outsider)
    assert "secret@example.com" not in exported(client)
    assert exported(client, ids=str(contact.pk)) == ""


def test_manager_and_executive_export_their_scope(client, owner, manager, outsider, executive):
    ContactFactory(owner=owner, last_name="TeamRow")
    ContactFactory(owner=outsider, last_name="OtherTeamRow")
    client.force_login(manager)
    body = exported(client)
    assert "TeamRow" in body and "OtherTeamRow" not in body
    client.force_login(executive)
    body = exported(client)
    assert "TeamRow" in body and "OtherTeamRow" in body


def test_export_omits_the_name_of_an_account_the_user_cannot_see(client, owner, outsider):
    hidden = AccountFactory(owner=outsider, name="Hidden Holdings")
    visible = AccountFactory(owner=owner, name="Visible Ventures")
    ContactFactory(owner=owner, last_name="Alpha", account=hidden, department="Ops")
    ContactFactory(owner=owner, last_name="Beta", account=visible)
    client.force_login(owner)
    body = exported(client)
    assert "Hidden Holdings" not in body and "ORG:;" not in body
    assert "ORG:Visible Ventures" in body


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_export_versions(client, owner, version):
    contact = ContactFactory(owner=owner, phones=["+442079460000"])
    client.force_login(owner)
    body = exported(client, version=version, ids=str(contact.pk))
    assert f"VERSION:{version}\r\n" in body
    assert ("TEL;VALUE=uri;PREF=1:tel:+442079460000" if version == "4.0" else "TEL;TYPE=voice,pref:+442079460000") \
        in body
    assert parse_vcards(body.encode())[0].contact.last_name == contact.last_name


def test_export_defaults_to_version_4_and_names_the_file(client, owner):
    ContactFactory(owner=owner, first_name="Ada", last_name="Lovelace")
    ContactFactory(owner=owner)
    client.force_login(owner)
    response = client.get(reverse("contacts:vcard_export"))
    assert "VERSION:4.0" in response.content.decode()
    assert re.search(r'filename="contacts-\d{4}-\d{2}-\d{2}\.vcf"', response["Content-Disposition"])
    single = Contact.objects.get(last_name="Lovelace")
    response = client.get(reverse("contacts:vcard_export"), {"ids": single.pk})
    assert 'filename="ada-lovelace.vcf"' in response["Content-Disposition"]


@pytest.mark.parametrize("params", [{"version": "2.1"}, {"ids": "1,abc"}, {"ids": "1;2"}, {"ids": "-1"}])
def test_bad_export_parameters_get_a_clear_400(client, owner, params):
    client.force_login(owner)
    response = client.get(reverse("contacts:vcard_export"), params)
    assert response.status_code == 400
    assert response.content.decode().strip()


def test_huge_ids_are_ignored_not_an_error(client, owner):
    client.force_login(owner)
    assert exported(client, ids="99999999999999999999999") == ""


def test_export_is_capped(client, owner, monkeypatch):
    monkeypatch.setattr(vcard_views, "MAX_CARDS", 3)
    for _ in range(5):
        ContactFactory(owner=owner)
    client.force_login(owner)
    assert exported(client).count("BEGIN:VCARD") == 3


def test_export_runs_a_constant_number_of_queries(client, owner):
    client.force_login(owner)
    ContactFactory(owner=owner, account=AccountFactory(owner=owner))
    exported(client)  # the first request after sign-in also renews the session
    with CaptureQueriesContext(connection) as one_row:
        exported(client)
    for _ in range(20):
        ContactFactory(owner=owner, account=AccountFactory(owner=owner))
    with CaptureQueriesContext(connection) as many_rows:
        assert exported(client).count("BEGIN:VCARD") == 21
    assert len(many_rows) == len(one_row) <= 8  # session, user, contacts, accounts (+ session save)


def test_export_is_get_only(client, owner):
    client.force_login(owner)
    assert client.post(reverse("contacts:vcard_export")).status_code == 405


def test_exported_file_imports_cleanly_for_another_user(client, owner, teammate):
    ContactFactory.create_batch(3, owner=owner, shared_with_team=True)
    client.force_login(owner)
    body = exported(client, version="3.0")
    client.force_login(teammate)
    response = client.post(reverse("contacts:vcard_import"), {"file": upload(body.encode())})
    assert 'id="vcard-created">3<' in response.content.decode()
    assert Contact.objects.filter(owner=teammate).count() == 3


def test_user_without_a_team_imports_contacts_without_a_team(db):
    loner = UserFactory(team=None)
    contacts_import_vcard(actor=loner, data=card("FN:A B").encode())
    contact = Contact.objects.get()
    assert contact.owner == loner and contact.team_id is None
