"""Segment criteria on custom fields of contacts and their accounts: every operator of every kind
against an independent Python filter over generated contacts (Cyrillic values included), the
whitelist of fields, operators and values, one query for the live count, labels in the reader's
language, and saving / editing / describing a segment."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import AccountFactory
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.models import CustomField
from marketing import segment_fields
from marketing.forms import SegmentForm
from marketing.models import Segment
from marketing.segments import contacts_in, describe

CONTACT, ACCOUNT = "contacts.contact", "accounts.account"
CITIES = ["Москва", "москва", "Санкт-Петербург", "Київ", "Berlin", "Нижний Новгород", ""]
SIZES = ["Малый", "Средний", "Крупный"]
START = date(2026, 1, 1)


@pytest.fixture
def fields(db):
    made = {
        ("contact", "city"): CustomField.objects.create(target=CONTACT, key="city", label="Город", kind="text",
                                                        translations={"en": "City", "uk": "Місто"}),
        ("contact", "size"): CustomField.objects.create(
            target=CONTACT, key="size", label="Размер", kind="choice", choices="\n".join(SIZES),
            translations={"en": "Size"}, choice_translations={"en": ["Small", "Medium", "Large"]}),
        ("contact", "budget"): CustomField.objects.create(target=CONTACT, key="budget", label="Бюджет", kind="number"),
        ("contact", "renewal"): CustomField.objects.create(target=CONTACT, key="renewal", label="Продление",
                                                           kind="date"),
        ("contact", "partner"): CustomField.objects.create(target=CONTACT, key="partner", label="Партнёр",
                                                           kind="boolean"),
        ("account", "sector"): CustomField.objects.create(target=ACCOUNT, key="sector", label="Отрасль", kind="text"),
        ("account", "tier"): CustomField.objects.create(target=ACCOUNT, key="tier", label="Уровень", kind="choice",
                                                        choices="\n".join(SIZES)),
        ("account", "staff"): CustomField.objects.create(target=ACCOUNT, key="staff", label="Сотрудники",
                                                         kind="number"),
        ("account", "signed"): CustomField.objects.create(target=ACCOUNT, key="signed", label="Договор", kind="date"),
        ("account", "key_client"): CustomField.objects.create(target=ACCOUNT, key="key_client",
                                                              label="Ключевой клиент", kind="boolean"),
    }
    CustomField.objects.create(target=CONTACT, key="retired", label="Старое поле", kind="text", active=False)
    return made


def _values(rng: random.Random, specs: dict[str, str]) -> dict:
    """Random stored values, as crm/custom_fields.py writes them; each key is missing now and then."""
    values: dict = {}
    for key, kind in specs.items():
        if rng.random() < 0.2:
            continue
        if kind == "text":
            values[key] = rng.choice(CITIES)
        elif kind == "choice":
            values[key] = rng.choice(SIZES)
        elif kind == "number":
            values[key] = format(Decimal(rng.randint(-50, 5000)) / rng.choice([1, 10, 100]), "f")
        elif kind == "date":
            values[key] = (START + timedelta(days=rng.randint(-400, 400))).isoformat()
        else:
            values[key] = rng.random() < 0.5
    return values


@pytest.fixture
def people(fields, marketer):
    rng = random.Random(20261207)
    accounts = [AccountFactory(owner=marketer, name=f"Компания {n}", custom=_values(
        rng, {"sector": "text", "tier": "choice", "staff": "number", "signed": "date", "key_client": "boolean"}))
        for n in range(16)]
    for n in range(60):
        ContactFactory(owner=marketer, first_name=f"Контакт{n}", account=rng.choice([*accounts, None]),
                       custom=_values(rng, {"city": "text", "size": "choice", "budget": "number", "renewal": "date",
                                            "partner": "boolean"}))
    return list(Contact.objects.select_related("account"))


def expected(contact: Contact, condition: dict) -> bool:
    """The same condition in plain Python, written apart from the SQL."""
    if condition["on"] == "account":
        if contact.account is None:
            return False
        stored = contact.account.custom or {}
    else:
        stored = contact.custom or {}
    value, op, wanted = stored.get(condition["key"]), condition["op"], condition.get("value")
    if op == "yes":
        return value is True
    if op == "no":
        return value is not True
    if op == "empty":
        return value in (None, "")
    if op == "not_empty":
        return value not in (None, "")
    if value in (None, ""):
        return False
    if op == "eq":
        return str(value).upper() == wanted.upper()
    if op == "contains":
        return wanted.upper() in str(value).upper()
    if op == "in":
        return value in wanted
    convert = Decimal if condition["key"] in ("budget", "staff") else date.fromisoformat
    if op in ("gt", "after"):
        return convert(value) > convert(wanted)
    if op in ("lt", "before"):
        return convert(value) < convert(wanted)
    return convert(wanted[0]) <= convert(value) <= convert(wanted[1])


CONDITIONS = [
    {"on": "contact", "key": "city", "op": "eq", "value": "МОСКВА"},
    {"on": "contact", "key": "city", "op": "contains", "value": "город"},
    {"on": "contact", "key": "city", "op": "contains", "value": "київ"},
    {"on": "contact", "key": "city", "op": "empty"},
    {"on": "contact", "key": "city", "op": "not_empty"},
    {"on": "contact", "key": "size", "op": "in", "value": ["Малый", "Крупный"]},
    {"on": "contact", "key": "size", "op": "empty"},
    {"on": "contact", "key": "budget", "op": "gt", "value": "100.5"},
    {"on": "contact", "key": "budget", "op": "lt", "value": "99.5"},
    {"on": "contact", "key": "budget", "op": "between", "value": ["10", "2000"]},
    {"on": "contact", "key": "budget", "op": "not_empty"},
    {"on": "contact", "key": "renewal", "op": "before", "value": "2026-01-01"},
    {"on": "contact", "key": "renewal", "op": "after", "value": "2026-03-15"},
    {"on": "contact", "key": "renewal", "op": "between", "value": ["2025-06-01", "2026-06-30"]},
    {"on": "contact", "key": "partner", "op": "yes"},
    {"on": "contact", "key": "partner", "op": "no"},
    {"on": "account", "key": "sector", "op": "eq", "value": "москва"},
    {"on": "account", "key": "sector", "op": "empty"},
    {"on": "account", "key": "sector", "op": "not_empty"},
    {"on": "account", "key": "tier", "op": "in", "value": ["Средний"]},
    {"on": "account", "key": "staff", "op": "gt", "value": "0"},
    {"on": "account", "key": "staff", "op": "between", "value": ["-10.5", "100"]},
    {"on": "account", "key": "signed", "op": "before", "value": "2026-01-01"},
    {"on": "account", "key": "signed", "op": "between", "value": ["2025-01-01", "2025-12-31"]},
    {"on": "account", "key": "key_client", "op": "yes"},
    {"on": "account", "key": "key_client", "op": "no"},
]


@pytest.mark.parametrize("condition", CONDITIONS, ids=lambda c: f"{c['on']}-{c['key']}-{c['op']}")
def test_each_operator_matches_a_python_filter(people, marketer, condition):
    got = sorted(contacts_in({"custom": [condition]}, marketer).values_list("pk", flat=True))
    want = sorted(c.pk for c in people if expected(c, condition))
    assert got == want
    assert 0 < len(want) < len(people) or condition["op"] in ("empty",)  # the data tells the cases apart


def test_conditions_combine_with_each_other_and_other_criteria(people, marketer):
    conditions = [CONDITIONS[4], CONDITIONS[9], CONDITIONS[24]]
    got = sorted(contacts_in({"custom": conditions, "has_email": True}, marketer).values_list("pk", flat=True))
    want = sorted(c.pk for c in people if c.emails and all(expected(c, cond) for cond in conditions))
    assert got == want


def test_a_segment_with_custom_conditions_is_one_query(people, marketer):
    criteria = {"custom": CONDITIONS[:12], "vip": "no", "has_email": True}
    segment_fields.definitions()  # the definitions are cached (crm/lookups.py), as on any page
    with CaptureQueriesContext(connection) as captured:
        contacts_in(criteria, marketer).count()
    assert len(captured) == 1


def test_a_stored_condition_on_a_retired_or_forged_field_matches_nobody(people, marketer):
    for condition in ({"on": "contact", "key": "retired", "op": "eq", "value": "x"},
                      {"on": "contact", "key": "budget", "op": "contains", "value": "1"},
                      {"on": "contact", "key": "city); DROP TABLE x; --", "op": "eq", "value": "x"},
                      {"on": "other", "key": "city", "op": "eq", "value": "x"}, "garbage"):
        assert not contacts_in({"custom": [condition]}, marketer).exists()


# --- The form: the whitelist ----------------------------------------------------------------


def row(field="", op="", value="", value2="", n=1):
    return {f"cf{n}_field": field, f"cf{n}_op": op, f"cf{n}_value": value, f"cf{n}_value2": value2}


@pytest.mark.parametrize(("data", "message"), [
    (row("contact:nope", "eq", "x"), "Choose one of the offered fields."),
    (row("contact:retired", "eq", "x"), "Choose one of the offered fields."),
    (row("contacts.contact:city", "eq", "x"), "Choose one of the offered fields."),
    (row("contact:city); DROP TABLE contacts_contact; --", "eq", "x"), "Choose one of the offered fields."),
    (row("contact:city", "gt", "5"), "Choose a condition that fits the field City."),
    (row("contact:city", "regex", ".*"), "Choose a condition that fits the field City."),
    (row("contact:partner", "eq", "1"), "Choose a condition that fits the field Партнёр."),
    (row("contact:budget", "gt", "много"), "Enter a number."),
    (row("contact:budget", "gt", "NaN"), "Enter a number."),
    (row("contact:renewal", "after", "2026-02-30"), "Enter a date."),
    (row("contact:renewal", "between", "2026-01-01"), "Enter both ends of the range."),
    (row("contact:size", "in", "Малый, Гигантский"), "“Гигантский” is not an option of Size."),
    (row("contact:city", "eq", ""), "Enter a value."),
    (row("", "eq", "Москва"), "Choose a field for this condition."),
])
def test_forged_or_wrong_conditions_are_form_errors(fields, marketer, data, message):
    form = SegmentForm({"name": "x", **data}, user=marketer)
    assert not form.is_valid()
    assert message in form.errors["cf1_field"]


def test_form_turns_rows_into_whitelisted_conditions(fields, marketer):
    data = {"name": "x", **row("contact:size", "in", "small, Крупный , SMALL"),
            **row("account:staff", "between", "1 000,5", "-2", n=2),
            **row("contact:renewal", "before", "31.12.2026", n=3)}
    form = SegmentForm(data, user=marketer)
    assert form.is_valid(), form.errors
    assert form.criteria() == {"custom": [
        {"on": "contact", "key": "size", "op": "in", "value": ["Малый", "Крупный"]},
        {"on": "account", "key": "staff", "op": "between", "value": ["-2", "1000.5"]},
        {"on": "contact", "key": "renewal", "op": "before", "value": "2026-12-31"}]}


def test_preview_refuses_a_forged_key_and_builds_no_sql(client, people, marketer):
    client.force_login(marketer)
    with CaptureQueriesContext(connection) as captured:
        body = client.post(reverse("marketing:segment_preview"),
                           {"name": "", **row("contact:secret_salary", "gt", "0")}).content.decode()
    assert "Correct the criteria marked in the form" in body
    assert not any("secret_salary" in query["sql"] or "contacts_contact" in query["sql"]
                   for query in captured.captured_queries)


def test_live_count_with_a_custom_condition_is_one_query_more_than_the_page_needs(client, people, marketer):
    client.force_login(marketer)
    url = reverse("marketing:segment_preview")

    def count(data):
        with CaptureQueriesContext(connection) as captured:
            body = client.post(url, {"name": "", **data}).content.decode()
        return len(captured), body

    count({})  # warm the cached definitions and the session
    plain, _body = count({})
    with_custom, body = count({**row("contact:city", "contains", "москва"), **row("account:key_client", "yes", n=2)})
    assert with_custom == plain <= 15
    want = sum(1 for c in people if expected(c, CONDITIONS[0]) and expected(c, CONDITIONS[24]))
    assert f'id="segment-count">{want}<' in body


def test_save_edit_and_describe_in_the_readers_language(client, people, marketer):
    client.force_login(marketer)
    client.post(reverse("marketing:segment_create"), {
        "name": "Крупные партнёры", **row("contact:size", "in", "Крупный"), **row("contact:partner", "yes", n=2)})
    segment = Segment.objects.get()
    assert segment.criteria == {"custom": [{"on": "contact", "key": "size", "op": "in", "value": ["Крупный"]},
                                           {"on": "contact", "key": "partner", "op": "yes"}]}
    with translation.override("en"):
        assert describe(segment.criteria) == [("Contact · Size", "is one of Large"), ("Contact · Партнёр", "is yes")]
        body = client.get(reverse("marketing:segment_edit", args=[segment.pk])).content.decode()
    assert 'value="Large"' in body and '<option value="contact:size" selected data-kind="choice">Size</option>' in body
    with translation.override("ru"):
        assert describe(segment.criteria) == [("Контакт · Размер", "одно из Крупный"), ("Контакт · Партнёр", "да")]
        staff = {"on": "account", "key": "staff", "op": "between", "value": ["10", "20"]}
        assert describe({"custom": [staff]}) == [("Компания · Сотрудники", "от 10 до 20")]
    with translation.override("uk"):
        assert describe(segment.criteria)[0] == ("Контакт · Размер", "одне з Крупный")
    body = client.get(segment.get_absolute_url()).content.decode()
    assert "Contact · Size" in body and "is one of Large" in body


def test_live_count_skips_a_row_being_filled_in_but_saving_refuses_it(client, people, marketer):
    client.force_login(marketer)
    preview, create = reverse("marketing:segment_preview"), reverse("marketing:segment_create")
    body = client.post(preview, {"name": "", **row("contact:city", "eq")}).content.decode()
    assert f'id="segment-count">{len(people)}<' in body
    body = client.post(create, {"name": "Город", **row("contact:city", "eq")}).content.decode()
    assert "Enter a value." in body and not Segment.objects.exists()
    body = client.post(preview, {"name": "", **row("contact:city", "gt", "5")}).content.decode()
    assert "Correct the criteria marked in the form" in body  # a wrong operator is no row in progress
