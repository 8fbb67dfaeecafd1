"""The report builder: visibility for the reader (rows and related fields), figures against an independent
Python computation in the base currency, date and two-level grouping, custom fields, the whitelist (forged
fields, lookups, operators and sort keys are refused with a message), saving, sharing, copying and exports."""

import collections
import datetime
import io
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.tests.factories import AccountFactory
from crm.models import CustomField, CustomFieldKind, CustomFieldTarget, Role
from crm.tests.factories import UserFactory
from reports import builder, catalogue
from reports.models import SavedReport
from reports.tests.data import at, deal
from sales.models import CurrencyRate, Invoice, Payment
from sales.tests.factories import PipelineFactory

RATES = {"EUR": Decimal("1"), "USD": Decimal("0.9"), "RUB": Decimal("0.01"), "UAH": Decimal("0.022")}


@pytest.fixture
def rates(settings, db):
    settings.DEFAULT_CURRENCY = "EUR"
    CurrencyRate.objects.create(currency="USD", rate=RATES["USD"])
    CurrencyRate.objects.create(currency="RUB", rate=RATES["RUB"])
    CurrencyRate.objects.create(currency="UAH", rate=RATES["UAH"])
    return RATES


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="Продажи")


def run(user, query, limit=builder.PAGE_ROWS):
    return builder.run(builder.parse(QueryDict(query), user), user, limit=limit)


def builder_page(client, user, query):
    client.force_login(user)
    return client.get(reverse("report_builder") + "?" + query)


# --- Visibility ------------------------------------------------------------------------------------------


def test_each_reader_gets_the_rows_their_policy_lets_them_see(pipeline, owner, teammate, manager, outsider, executive):
    mine = deal(pipeline, owner, "Proposal", "100.00", name="Моя сделка")
    shared = deal(pipeline, teammate, "Proposal", "200.00", name="Общая", shared_with_team=True)
    deal(pipeline, teammate, "Proposal", "300.00", name="Чужая")
    deal(pipeline, outsider, "Proposal", "400.00", name="Другая команда")
    query = "entity=deals&c=name&sort=name"

    def names(user):
        return {row[0] for row in run(user, query).rows}

    assert names(owner) == {mine.name, shared.name}
    assert names(manager) == {"Моя сделка", "Общая", "Чужая"}
    assert names(executive) == {"Моя сделка", "Общая", "Чужая", "Другая команда"}
    assert names(outsider) == {"Другая команда"}


def test_a_related_record_the_reader_may_not_see_is_blank_and_cannot_be_filtered_on(pipeline, owner, teammate):
    hidden_account = AccountFactory(owner=teammate, name="Секретный клиент")
    deal(pipeline, teammate, "Proposal", "200.00", name="Общая", shared_with_team=True, account=hidden_account)
    [row] = run(owner, "entity=deals&c=name&c=account.name").rows
    assert row == ["Общая", None]
    assert run(owner, "entity=deals&c=name&ff=account.name&fo=eq&fv=Секретный клиент").rows == []
    assert run(teammate, "entity=deals&c=name&ff=account.name&fo=eq&fv=секретный КЛИЕНТ").rows == [["Общая"]]
    grouped = run(owner, "entity=deals&g1=account.name")
    assert grouped.rows == [[None, 1]]  # counted, under no name


def test_roles_without_the_records_cannot_report_on_them(client, support_agent, marketer, pipeline, owner):
    deal(pipeline, owner, "Proposal", "100.00")
    response = builder_page(client, support_agent, "entity=deals&c=name")
    assert response.status_code == 400
    assert "Choose what to report on from the list." in response.content.decode()
    assert "Deals" not in [str(label) for _key, label in response.context["entities"]]
    assert builder_page(client, marketer, "entity=leads&c=last_name").status_code == 200


def test_payments_follow_their_invoices_visibility(owner, teammate):
    rows = {}
    for person, number in ((owner, "INV-1"), (teammate, "INV-2")):
        account = AccountFactory(owner=person)
        invoice = Invoice.objects.create(number=number, account=account, owner=person, team=person.team,
                                         due_date=timezone.localdate(), total=Decimal("100.00"))
        Payment.objects.create(invoice=invoice, amount=Decimal("40.00"))
        rows[person] = number
    assert run(owner, "entity=payments&c=invoice.number&c=amount").rows == [["INV-1", Decimal("40.00")]]


# --- Figures ---------------------------------------------------------------------------------------------------


def test_sums_by_owner_are_in_the_base_currency_as_an_independent_sum(rates, pipeline, owner, teammate, executive):
    amounts = [("EUR", "100.00", owner), ("USD", "1000.00", owner), ("RUB", "50000.00", teammate),
               ("USD", "10.50", teammate), ("EUR", "7.25", teammate), ("UAH", "12345.67", owner)]
    for currency, amount, person in amounts:
        deal(pipeline, person, "Proposal", amount, currency)
    result = run(executive, "entity=deals&g1=owner&a=sum:amount&a=avg:amount&a=max:amount&sort=g1")
    expected = collections.defaultdict(list)
    for currency, amount, person in amounts:
        expected[str(person)].append(Decimal(amount) * rates[currency])
    got = {row[0]: row[1:] for row in result.rows}
    assert set(got) == set(expected)
    for name, values in expected.items():
        count, total, average, largest = got[name]
        assert count == len(values)
        assert total == sum(values)
        assert average.quantize(Decimal("0.01")) == (sum(values) / len(values)).quantize(Decimal("0.01"))
        assert largest == max(values)
    assert result.totals[1:3] == [len(amounts), sum(Decimal(a) * rates[c] for c, a, _p in amounts)]


def test_dates_are_grouped_by_month_and_by_a_second_level(pipeline, owner):
    days = [datetime.date(2026, 1, 5), datetime.date(2026, 1, 31), datetime.date(2026, 3, 1),
            datetime.date(2026, 3, 15)]
    for index, day in enumerate(days):
        deal(pipeline, owner, "Won" if index % 2 else "Lost", "10.00", closed_at=at(day), closes=day)
    result = run(owner, "entity=deals&g1=closed_at&g1p=month")
    expected = collections.Counter(day.replace(day=1) for day in days)
    assert {row[0]: row[1] for row in result.rows} == expected
    two = run(owner, "entity=deals&g1=closed_at&g1p=quarter&g2=stage&chart=bar")
    assert {(row[0], row[1]): row[2] for row in two.rows} == {
        (datetime.date(2026, 1, 1), "Won"): 2, (datetime.date(2026, 1, 1), "Lost"): 2}
    chart = two.chart()
    assert chart["labels"] == ["Q1 2026"] and {item["label"] for item in chart["datasets"]} == {"Won", "Lost"}
    by_week = run(owner, "entity=deals&g1=expected_close_date&g1p=week")
    assert sum(row[1] for row in by_week.rows) == 4
    assert all(row[0].weekday() == 0 for row in by_week.rows)


def test_filters_with_whitelisted_operators(pipeline, owner, rates):
    deal(pipeline, owner, "Proposal", "100.00", "EUR", name="Альфа")
    deal(pipeline, owner, "Proposal", "1000.00", "USD", name="Бета")  # 900 EUR
    deal(pipeline, owner, "Won", "5.00", "RUB", name="Гамма", closed_at=timezone.now())

    def names(query):
        return sorted(row[0] for row in run(owner, "entity=deals&c=name&" + query).rows)

    assert names("ff=amount&fo=gt&fv=899,99") == ["Бета"]  # compared in the base currency
    assert names("ff=name&fo=contains&fv=ЛЬФ") == ["Альфа"]
    assert names("ff=stage_kind&fo=eq&fv=won") == ["Гамма"]
    assert names("ff=closed_at&fo=empty") == ["Альфа", "Бета"]
    assert names("ff=closed_at&fo=last_days&fv=7") == ["Гамма"]
    assert names("ff=name&fo=ne&fv=альфа&ff=amount&fo=lt&fv=1000") == ["Бета", "Гамма"]


def test_custom_fields_are_columns_filters_and_groups(pipeline, owner):
    CustomField.objects.create(target=CustomFieldTarget.OPPORTUNITY, key="region_code", label="Код региона")
    CustomField.objects.create(target=CustomFieldTarget.OPPORTUNITY, key="seats", label="Места",
                               kind=CustomFieldKind.NUMBER)
    deal(pipeline, owner, "Proposal", "1.00", name="A", custom={"region_code": "77", "seats": "10"})
    deal(pipeline, owner, "Proposal", "1.00", name="B", custom={"region_code": "77", "seats": "2.5"})
    deal(pipeline, owner, "Proposal", "1.00", name="C", custom={"region_code": "50"})
    rows = run(owner, "entity=deals&c=name&c=cf.region_code&ff=cf.seats&fo=gte&fv=2.5&sort=name").rows
    assert rows == [["A", "77"], ["B", "77"]]
    grouped = run(owner, "entity=deals&g1=cf.region_code&a=sum:cf.seats&sort=g1").rows
    assert grouped == [["50", 1, None], ["77", 2, Decimal("12.5")]]


# --- The whitelist ------------------------------------------------------------------------------------------------

FORGED = [
    ("entity=auth.user&c=email", "Choose what to report on"),
    ("entity=deals&c=owner__password", "is not a field of deals"),
    ("entity=deals&c=account__owner__email", "is not a field of deals"),
    ("entity=deals&c=amount_base", "is not a field of deals"),
    ("entity=deals&ff=name&fo=regex&fv=.*", "is not an operator"),
    ("entity=deals&ff=name&fo=raw&fv=1) OR 1=1 --", "is not an operator"),
    ("entity=deals&ff=amount&fo=contains&fv=1", "is not an operator"),
    ("entity=deals&ff=owner__is_superuser&fo=eq&fv=yes", "is not a field of deals"),
    ("entity=deals&ff=stage_kind&fo=eq&fv=secret", "choose one of the listed values"),
    ("entity=deals&ff=amount&fo=gt&fv=1e999999", "enter a number"),
    ("entity=deals&ff=closed_at&fo=gt&fv=yesterday", "enter a date"),
    ("entity=deals&c=name&sort=owner__password", "cannot be sorted by"),
    ("entity=deals&c=name&sort=-amount", "cannot be sorted by"),
    ("entity=deals&c=name&dir=sideways", "Sort up or down"),
    ("entity=deals&g1=pk", "is not a field of deals"),
    ("entity=deals&g1=amount", "cannot be grouped by"),
    ("entity=deals&g1=closed_at&g1p=minute", "Group dates by"),
    ("entity=deals&g1=stage&a=sum:name", "cannot be taken of"),
    ("entity=deals&g1=stage&a=sum:amount__gt", "is not a field of deals"),
    ("entity=deals&g1=stage&a=stddev:amount", "is not a way to add up"),
    ("entity=deals&g1=stage&chart=radar", "Choose a chart type"),
    ("entity=deals&c=name&chart=bar", "A chart needs a grouping"),
]


@pytest.mark.parametrize(("query", "message"), FORGED)
def test_forged_definitions_are_refused_with_a_message(client, owner, pipeline, query, message):
    deal(pipeline, owner, "Proposal", "100.00")
    response = builder_page(client, owner, query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["result"] is None  # nothing ran

    export = client.get(reverse("report_export") + "?" + query + "&format=csv")
    assert export.status_code == 302 and "attachment" not in export.get("Content-Disposition", "")


def test_a_forged_export_format_is_refused(client, owner):
    client.force_login(owner)
    response = client.get(reverse("report_export") + "?entity=deals&format=exe", follow=True)
    assert "Export as CSV, XLSX or PDF." in response.content.decode()


# --- Page, exports -------------------------------------------------------------------------------------------------


def test_the_page_shows_the_table_and_chart_in_constant_queries(client, owner, pipeline, rates,
                                                                 django_assert_max_num_queries):
    query = "entity=deals&g1=stage&a=sum:amount&chart=pie&c=name"
    client.force_login(owner)
    for count in (2, 12):
        for number in range(count):
            deal(pipeline, owner, "Proposal" if number % 2 else "Won", "10.00", "USD")
        with django_assert_max_num_queries(15):
            response = client.get(reverse("report_builder") + "?" + query)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="report-table"' in page and 'id="report-chart-canvas-data"' in page
    assert response.context["chart"]["type"] == "pie"
    assert "1 USD = " in page  # the rate used is on the page


def test_exports_csv_xlsx_and_pdf(client, owner, pipeline):
    deal(pipeline, owner, "Proposal", "1234.50", name="=HYPERLINK(\"x\")")
    deal(pipeline, owner, "Proposal", "10.00", name="Ёлка")
    client.force_login(owner)
    base = reverse("report_export") + "?entity=deals&c=name&c=amount&sort=name"
    csv_text = client.get(base + "&format=csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "Ёлка,10.00" in csv_text
    response = client.get(base + "&format=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Name" and ["Ёлка", 10.0] in values and values[1][0].startswith("'=")
    pdf = client.get(base + "&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


# --- Saved reports -------------------------------------------------------------------------------------------------


def save(client, user, name, query="entity=deals&c=name", **extra):
    client.force_login(user)
    return client.post(reverse("report_save"), {"name": name, "query": query, **extra})


def test_save_share_with_team_list_search_copy_and_delete(client, owner, teammate, outsider, team, pipeline):
    deal(pipeline, owner, "Proposal", "100.00", name="Моя")
    deal(pipeline, teammate, "Proposal", "100.00", name="Его")
    response = save(client, owner, "Воронка команды", "entity=deals&c=name&c=bogus", team=team.pk)
    assert response.status_code == 302 and not SavedReport.objects.exists()  # an invalid definition: not saved
    save(client, owner, "Воронка команды", team=team.pk)
    save(client, owner, "Личный отчёт")
    shared, private = SavedReport.objects.get(team=team), SavedReport.objects.get(team=None)
    assert shared.owner == owner and shared.query == "entity=deals&c=name"

    client.force_login(teammate)
    listing = client.get(reverse("saved_reports")).context["reports"]
    assert [report.name for report in listing] == ["Воронка команды"]
    run_page = client.get(reverse("saved_report", args=[shared.pk]))
    assert [cells[0][0] for _link, cells in run_page.context["rows"]] == ["Его"]  # the teammate's rows only
    assert client.get(reverse("saved_report", args=[private.pk])).status_code == 404
    assert client.post(reverse("report_delete", args=[shared.pk])).status_code == 404
    client.post(reverse("report_copy", args=[shared.pk]))
    copy = SavedReport.objects.get(owner=teammate)
    assert copy.name == "Copy of Воронка команды" and copy.team is None and copy.query == shared.query

    client.force_login(outsider)
    assert client.get(reverse("saved_report", args=[shared.pk])).status_code == 404
    assert client.post(reverse("report_copy", args=[shared.pk])).status_code == 404
    assert list(client.get(reverse("saved_reports")).context["reports"]) == []

    client.force_login(owner)
    found = client.get(reverse("saved_reports") + "?q=личн").context["reports"]
    assert [report.name for report in found] == ["Личный отчёт"]
    client.post(reverse("report_delete", args=[private.pk]))
    assert not SavedReport.objects.filter(pk=private.pk).exists()


def test_sharing_with_a_team_that_is_not_yours_is_refused(client, owner, other_team):
    response = save(client, owner, "Чужой", team=other_team.pk)
    assert response.status_code == 200
    assert "Share it with your own team or a team you manage." in response.content.decode()
    assert not SavedReport.objects.exists()


def test_only_the_owner_saves_changes(client, owner, teammate, team):
    save(client, owner, "Отчёт", team=team.pk)
    report = SavedReport.objects.get()
    response = save(client, teammate, "Взлом", "entity=deals&c=amount", report=report.pk)
    assert response.status_code == 404
    report.refresh_from_db()
    assert report.name == "Отчёт"
    save(client, owner, "Отчёт 2", "entity=deals&c=amount", report=report.pk)
    report.refresh_from_db()
    assert (report.name, report.query, SavedReport.objects.count()) == ("Отчёт 2", "entity=deals&c=amount", 1)


def test_a_new_user_without_a_team_can_still_save_privately(client, db):
    rep = UserFactory(role=Role.SALES_REP, team=None)
    response = save(client, rep, "Мой")
    assert response.status_code == 302 and SavedReport.objects.get().owner == rep


@pytest.mark.parametrize("entity", sorted(catalogue.ENTITIES))
def test_every_whitelisted_field_runs_as_column_filter_group_and_figure(admin_user, owner, entity):
    """Each field of the catalogue is valid SQL in every role it may take (rows read by an admin and by a rep,
    whose related fields go through the visibility EXISTS)."""
    fields = catalogue.fields_of(catalogue.ENTITIES[entity])
    columns = "&".join(f"c={key}" for key in fields)
    for user in (admin_user, owner):
        if not builder.visibility.can_read(user, catalogue.ENTITIES[entity].reader_model):
            continue
        assert run(user, f"entity={entity}&{columns}").rows == []
        for key, item in fields.items():
            op = builder.OPERATORS_BY_KIND[item.kind][0]
            value = {"number": "1", "money": "1", "date": "2026-01-01", "datetime": "2026-01-01", "boolean": "yes",
                     "choice": str(item.choices[0][0]) if item.choices else "x"}.get(item.kind, "x")
            run(user, f"entity={entity}&c={key}&ff={key}&fo={op}&fv={value}")
            for extra in builder.OPERATORS_BY_KIND[item.kind][1:]:
                run(user, f"entity={entity}&c={key}&ff={key}&fo={extra}&fv={3 if extra.endswith('_days') else value}")
            if item.kind in builder.GROUPABLE:
                figures = "&".join(f"a={function}:{other}" for function, (_l, _f, kinds) in builder.FUNCTIONS.items()
                                   for other, target in fields.items() if target.kind in kinds)
                run(user, f"entity={entity}&g1={key}&g2={key}&{figures}&sort=g1&dir=desc")


def test_a_definition_too_long_to_save_is_refused(client, owner):
    filters = "&".join(f"ff=name&fo=contains&fv={'я' * 50}{index}" for index in range(12))
    response = save(client, owner, "Длинный", f"entity=deals&c=name&{filters}")
    assert response.status_code == 302 and not SavedReport.objects.exists()
    page = client.get(response.url)
    assert "This report is too long to save" in page.content.decode()


def test_support_builds_reports_on_what_it_reads_without_the_sales_dashboards(client, support_agent):
    response = builder_page(client, support_agent, "entity=tickets&g1=status&chart=pie")
    assert response.status_code == 200
    # The sales dashboards are not offered; the service dashboard is (support reads the tickets).
    assert [key for key, _label, _url in response.context["tabs"]] == ["reports_service", "report_builder",
                                                                       "saved_reports"]
    assert {key for key, _label in response.context["entities"]} == {"accounts", "contacts", "activities", "tickets"}
    assert f'href="{reverse("report_builder")}">Reports</a>' in response.content.decode()  # the menu leads here


def test_each_group_and_bar_opens_exactly_the_records_it_counts(client, pipeline, owner, teammate, manager):
    """Drill-down: following a group's link lists as many records as the group counts (dates by quarter,
    owners, empty values included), through the same visibility."""
    days = [datetime.date(2026, 1, 5), datetime.date(2026, 3, 31), datetime.date(2026, 4, 1), None]
    for index in range(12):
        day = days[index % 4]
        person = owner if index % 3 else teammate
        deal(pipeline, person, "Won" if day else "Proposal", f"{index + 1}.00", name=f"Сделка {index}",
             closed_at=at(day) if day else None, lost_reason="")
    client.force_login(manager)
    response = client.get(reverse("report_builder") + "?entity=deals&g1=closed_at&g1p=quarter&g2=owner&chart=bar")
    rows = response.context["rows"]
    assert len(rows) == 6  # Q1, Q2 and no date, each × 2 owners
    for link, cells in rows:
        count = int(cells[2][0])
        listed = client.get(link)
        assert listed.status_code == 200 and len(listed.context["rows"]) == count, link
    chart = response.context["chart"]
    assert len(chart["urls"]) == len(chart["labels"]) == 3 and all(chart["urls"])
    by_quarter = client.get(chart["urls"][0]).context["rows"]
    assert len(by_quarter) == 6  # Q1: every deal closed in January–March
