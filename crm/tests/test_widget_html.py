"""crm/widget_html.py writes the filter panels' selects and inputs in Python: the markup must be
exactly what Django's widget templates give, for any value (escaping included)."""

import re

import pytest
from django import forms
from django.urls import reverse

from crm import lists
from crm.widget_html import FastWidgetRenderer
from sales.tests.factories import OpportunityFactory, PipelineFactory

NASTY = '<b>"Рога & Копыта"</b>'


class EveryWidget(forms.Form):
    text = forms.CharField(widget=forms.TextInput(attrs={"placeholder": NASTY, "class": "form-control"}))
    number = forms.DecimalField()
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    search = forms.CharField(widget=forms.TextInput(attrs={"type": "search", "autofocus": True, "hidden": False}))
    flag = forms.BooleanField(required=False)
    hidden = forms.CharField(widget=forms.HiddenInput)
    choice = forms.ChoiceField(choices=[("", "—"), ("a&b", NASTY), ("2", "Україна")])
    grouped = forms.ChoiceField(choices=[("", "any"), ("Група <1>", [("x", "Ікс"), ("y", "Ігрек")]), ("z", "Зет")])
    many = forms.MultipleChoiceField(choices=[("1", "one"), ("2", "two"), ("3", NASTY)])
    radio = forms.ChoiceField(choices=[("1", "one")], widget=forms.RadioSelect)  # not handled: Django renders it


@pytest.mark.parametrize("data", [
    {},
    {"text": NASTY, "number": "12.50", "day": "2026-12-07", "search": "Иванов", "flag": "on", "hidden": NASTY,
     "choice": "a&b", "grouped": "y", "many": ["1", "3"], "radio": "1"},
])
def test_the_same_markup_as_the_widget_templates(data):
    slow, fast = EveryWidget(data or None), EveryWidget(data or None)
    fast.renderer = FastWidgetRenderer()
    for name in slow.fields:
        assert str(fast[name]) == str(slow[name]), name


def test_a_list_page_renders_the_same_with_either_renderer(client, owner, monkeypatch):
    pipeline = PipelineFactory(name="Продажи", is_default=True)
    OpportunityFactory(owner=owner, pipeline=pipeline, name=NASTY)
    client.force_login(owner)
    url = reverse("sales:opportunity_list") + "?status=open&pipeline=" + str(pipeline.pk)

    def page():
        return client.get(url).content.decode()

    fast = page()
    monkeypatch.setattr(lists, "FAST_RENDERER", forms.renderers.DjangoTemplates())
    slow = page()
    strip = re.compile(r'nonce="[^"]+"|[A-Za-z0-9]{64}')  # CSP nonces and masked CSRF tokens differ per response
    assert strip.sub("", fast) == strip.sub("", slow)
    assert "&lt;b&gt;&quot;Рога &amp; Копыта&quot;&lt;/b&gt;" in fast
