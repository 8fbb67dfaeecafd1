"""A list's rows are written in Python (crm.lists.render_rows, the columns' `cell` functions such as
`Link`, and the `value`/`format` cells): the markup must be what the row loop of
components/list/table.html and the cell partials it replaced produced, byte for byte, escaping
included (docs/benchmarks.md, issue 16)."""

import re
from dataclasses import replace

import pytest
from django.template import Context, engines
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.lists import BoundColumn, Column, Link, resolve
from sales.tests.factories import OpportunityFactory, PipelineFactory

SCRIPT = "<script>alert(1)</script>"

# The table's row loop before the rows were written in Python (components/list/table.html).
OLD_ROWS = """{% load i18n crm_tags %}<tbody>
    {% trans "Tick" as tick %}
    {% for row in page.rows %}
    <tr>
      {% if bulk_actions %}<td class="text-center list-tick"><input class="form-check-input" type="checkbox" name="ids" value="{{ row.pk }}" aria-label="{{ tick }}: {{ row }}"></td>{% endif %}
      {% for bound in columns %}<td class="{{ bound.cell_class }}" data-label="{{ bound.header }}">{% list_cell row bound %}</td>{% endfor %}
    </tr>
    {% endfor %}
    </tbody>"""  # noqa: E501 - the template as it was

# The cell partials the Python cells replaced, by the column's header.
OLD_CELLS = {
    "accounts:list": {
        "Company name": '{% load i18n %}<a href="{{ row.get_absolute_url }}">{{ row.name }}</a>{% if row.is_vip %} '
                        '<span class="badge text-bg-warning">{% trans "VIP" %}</span>{% endif %}',
        "Type": "{{ row.get_type_display }}",
        "ABC / RFM": '{% include "accounts/_ranking_badges.html" with account=row %}',
    },
    "contacts:list": {
        "Name": '<a href="{{ row.get_absolute_url }}">{{ row }}</a>{% if row.title %} '
                '<small class="text-body-secondary">{{ row.title }}</small>{% endif %}',
        "Account": '{% if row.account and row.account_visible %}<a href="{{ row.account.get_absolute_url }}">'
                   '{{ row.account }}</a>{% endif %}',
        "Phone": "{% load crm_tags %}{{ row.primary_phone|phone }}",
    },
    "sales:opportunity_list": {
        "Name": '<a href="{{ row.get_absolute_url }}">{{ row.name }}</a>',
        "Account": '{% load i18n %}{% if row.account_visible %}<a href="{{ row.account.get_absolute_url }}">'
                   '{{ row.account.name }}</a>{% else %}<span class="text-body-secondary">'
                   '{% trans "(not visible to you)" %}</span>{% endif %}',
    },
}


def old_rows(response, url_name: str) -> str:
    """The rows as the template engine wrote them before, from the response's own context."""
    engine = engines["django"].engine
    columns = []
    for bound in response.context["columns"]:
        source = OLD_CELLS[url_name].get(bound.header)
        if source is None:
            assert bound.column.cell is None, f"{bound.header}: a Python cell with no old partial to compare"
            columns.append(bound)
            continue
        old = replace(bound.column, cell=None, value="", format="", template="old")
        columns.append(BoundColumn(column=old, header=bound.header, cell_class=bound.cell_class,
                                   partial=engine.from_string(source)))
    context = Context({"page": response.context["page"], "columns": columns,
                       "bulk_actions": response.context["bulk_actions"]})
    # The one difference: accounts/_ranking_badges.html ends in a newline, which the include put inside
    # the cell; the Python cell leaves it out (whitespace at the end of a cell shows nothing).
    return engine.from_string(OLD_ROWS).render(context).replace("\n</td>", "</td>")


def new_rows(body: str) -> str:
    return re.search(r"<tbody>.*?</tbody>", body, re.S).group(0)


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="New business", is_default=True)


@pytest.fixture
def nasty_book(owner, outsider, pipeline):
    """Rows with every branch of the cells: a VIP, ranked accounts, a contact whose account the
    owner may not see, a job title, a phone; names with markup in them."""
    vip = AccountFactory(owner=owner, name=SCRIPT, is_vip=True, abc_class="A", rfm_class="champions",
                         rfm_score="555")
    AccountFactory(owner=owner, name='Рога & "Копыта"', abc_class="C")
    AccountFactory(owner=owner, name="Ranked Ltd", rfm_class="at_risk")
    AccountFactory(owner=owner, name="Unranked Ltd")
    hidden = AccountFactory(owner=outsider, name="Their account")
    ContactFactory(owner=owner, first_name=SCRIPT, last_name="Zed", title="<b>CTO</b>", account=vip,
                   phones=["+442079460101"])
    ContactFactory(owner=owner, first_name="Ann", last_name="Hidden", account=hidden, phones=[])
    ContactFactory(owner=owner, first_name="No", last_name="Account", account=None)
    OpportunityFactory(owner=owner, pipeline=pipeline, account=vip, name=SCRIPT)
    OpportunityFactory(owner=owner, pipeline=pipeline, account=hidden, name="Cross-team deal")
    return vip


@pytest.mark.parametrize("url_name", ["accounts:list", "contacts:list", "sales:opportunity_list"])
def test_rows_are_what_the_templates_wrote(client, owner, nasty_book, url_name):
    client.force_login(owner)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    rows = new_rows(response.content.decode())
    assert rows.count("<tr>") == len(response.context["page"].rows) >= 2
    old = old_rows(response, url_name)
    for new_cell, old_cell in zip(rows.split("</td>"), old.split("</td>"), strict=False):
        assert new_cell == old_cell
    assert rows == old


@pytest.mark.parametrize("url_name", ["accounts:list", "contacts:list", "sales:opportunity_list"])
def test_a_script_in_a_name_is_shown_as_text(client, owner, nasty_book, url_name):
    client.force_login(owner)
    rows = new_rows(client.get(reverse(url_name)).content.decode())
    assert "<script>" not in rows
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rows


def test_the_account_list_cells(client, owner, nasty_book):
    client.force_login(owner)
    rows = new_rows(client.get(reverse("accounts:list")).content.decode())
    assert '<span class="badge text-bg-warning">VIP</span>' in rows
    assert 'href="/accounts/?abc_class=A" title="ABC class: A' in rows
    assert 'href="/accounts/?rfm_class=champions" title="RFM class (score 555)">' in rows
    assert "Рога &amp; &quot;Копыта&quot;" in rows
    assert '<span class="text-body-secondary">—</span></td>' in rows  # an account with no ranking yet


def test_the_contact_list_cells(client, owner, nasty_book):
    client.force_login(owner)
    rows = new_rows(client.get(reverse("contacts:list")).content.decode())
    assert ' <small class="text-body-secondary">&lt;b&gt;CTO&lt;/b&gt;</small>' in rows
    assert f'<a href="{nasty_book.get_absolute_url()}">' in rows
    assert "Their account" not in rows  # the contact is visible, its account is not: no link, no name
    assert "+44 20 7946 0101" in rows


def test_link_cell_kinds():
    class Record:
        name = "<i>Acme</i>"
        title = ""
        is_vip = False
        visible = False

        def get_absolute_url(self):
            return "/r/1/?a=1&b=2"

        def __str__(self):
            return "Acme & Co"

    row = Record()
    row.account = Record()
    assert Link()(row) == '<a href="/r/1/?a=1&amp;b=2">Acme &amp; Co</a>'
    assert Link(text="name")(row) == '<a href="/r/1/?a=1&amp;b=2">&lt;i&gt;Acme&lt;/i&gt;</a>'
    assert Link(target="account", when="visible")(row) == ""
    assert Link(target="account", when="visible", otherwise="<hidden>")(row) == (
        '<span class="text-body-secondary">&lt;hidden&gt;</span>')
    assert Link(target="nothing")(row) == ""
    assert resolve(row, "account.name") == "<i>Acme</i>"


def test_a_column_takes_one_of_value_template_or_cell():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        Column("x", value="name", cell=Link())
    with pytest.raises(ImproperlyConfigured):
        Column("x")
    with pytest.raises(ImproperlyConfigured):
        Column("x", value="name", format="upper")


def test_the_account_list_offers_territories_from_the_cached_lookup(client, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.tests.factories import TerritoryFactory

    north, south = TerritoryFactory(name="North <b>"), TerritoryFactory(name="South")
    client.force_login(owner)
    client.get(reverse("accounts:list"))  # fills the cache
    with CaptureQueriesContext(connection) as captured:
        body = client.get(reverse("accounts:list")).content.decode()
    assert f'<option value="{north.pk}">North &lt;b&gt;</option>' in body
    assert f'<option value="{south.pk}">South</option>' in body
    assert not [query for query in captured if 'FROM "crm_territory"' in query["sql"]]
    # A forged id is still checked against the queryset: the filter is refused, nothing is filtered by it.
    response = client.get(reverse("accounts:list"), {"territory": "999999"})
    assert response.status_code == 200 and response.context["filter"].form.errors.get("territory")
