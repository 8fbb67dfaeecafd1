"""Web-to-lead for a returning person: a submission whose e-mail (any case) or phone (any format) is that of
a contact or an open lead is added to it (a note on its timeline, its owner told, consent granted on a
contact, the submission "matched") instead of creating a lead; the visitor sees the same page either way."""

import re

import pytest
from django.urls import reverse

from activities.models import Activity
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.history import history_for
from crm.models import Notification
from crm.tests.factories import UserFactory
from marketing import webforms
from marketing.models import WebForm, WebFormSubmission
from marketing.tests.factories import CampaignFactory
from sales.models import Lead, LeadStatus
from sales.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

GOOD = {"first_name": "Олег", "last_name": "Шевченко", "email": "OLEG@Example.com", "company": "ТОВ Ромашка",
        "phone": "", "message": "Нужна цена на 20 лицензий", "consent": "on"}


@pytest.fixture
def web_form(admin_user, marketer):
    return WebForm.objects.create(name="Запрос цены", campaign=CampaignFactory(owner=marketer, name="Выставка"),
                                  team=marketer.team, fields=["company", "phone", "message"], language="ru",
                                  consent_wording="Я согласен получать письма о продуктах.",
                                  thank_you="Спасибо! Мы свяжемся с вами.", created_by=admin_user)


def post(client, form, data, ip="203.0.113.5"):
    return client.post(reverse("marketing:webform_public", args=[webforms.form_key(form.pk)]), data, REMOTE_ADDR=ip)


def test_the_same_email_in_another_case_is_added_to_the_contact(client, web_form, owner):
    contact = ContactFactory(owner=owner, emails=["oleg@example.com"], email_opt_in=False)
    response = post(client, web_form, GOOD)
    assert "Спасибо! Мы свяжемся с вами." in response.content.decode()
    assert not Lead.objects.exists()
    submission = WebFormSubmission.objects.get()
    assert (submission.outcome, submission.contact, submission.lead) == ("matched", contact, None)
    note = Activity.objects.get(contact=contact)
    assert note.kind == "note" and note.direction == "in" and note.owner == owner and "Запрос цены" in note.subject
    assert "Нужна цена на 20 лицензий" in note.body and "ТОВ Ромашка" in note.body
    told = Notification.objects.get(user=owner)
    assert told.url == contact.get_absolute_url() and "Запрос цены" in told.display


def test_the_same_phone_in_another_format_is_added_to_the_open_lead(client, web_form, owner):
    lead = LeadFactory(owner=owner, email="other@example.org", phone="+7 912 345 67 89", description="Звонил")
    assert lead.phone_e164 == "+79123456789"
    post(client, web_form, {**GOOD, "email": "new@example.com", "phone": "8 (912) 345-67-89"})
    assert Lead.objects.count() == 1
    submission = WebFormSubmission.objects.get()
    assert (submission.outcome, submission.lead, submission.contact) == ("matched", lead, None)
    assert "8 (912) 345-67-89" in Activity.objects.get(lead=lead).body
    lead.refresh_from_db()
    assert lead.description.startswith("Звонил") and "Я согласен получать письма о продуктах." in lead.description
    assert Notification.objects.filter(user=owner).exists()


def test_no_match_creates_a_lead_as_before(client, web_form, owner):
    ContactFactory(owner=owner, emails=["someone.else@example.com"], phones=["+79990001122"])
    LeadFactory(owner=owner, email="oleg@example.com", status=LeadStatus.DISQUALIFIED)  # closed: not matched
    ContactFactory(owner=owner, emails=["oleg@example.com"], deleted_at="2026-01-01T00:00Z")  # deleted: not matched
    post(client, web_form, {**GOOD, "phone": "8 (912) 345-67-89"})
    lead = Lead.objects.get(status=LeadStatus.NEW)
    assert lead.email == "oleg@example.com" and lead.owner is None
    assert WebFormSubmission.objects.get().outcome == "lead"
    assert not Activity.objects.exists()


def _page(response) -> str:
    """The page without what differs on every request (the CSP nonce, the CSRF token)."""
    text = response.content.decode()
    return re.sub(r'"X-CSRFToken": "\w+"', "", re.sub(r'(nonce|value)="[^"]*"', "", text))


def test_the_visitor_sees_the_same_page_whether_or_not_they_are_known(client, web_form, owner):
    unknown = post(client, web_form, GOOD, ip="203.0.113.7")
    assert WebFormSubmission.objects.get().outcome == "lead"
    Lead.objects.all().delete()
    ContactFactory(owner=owner, emails=["oleg@example.com"])
    known = post(client, web_form, GOOD, ip="203.0.113.8")
    assert WebFormSubmission.objects.filter(outcome="matched").count() == 1
    assert known.status_code == unknown.status_code == 200
    assert _page(known) == _page(unknown)


def test_consent_is_granted_on_the_contact_with_the_web_form_as_its_source(client, web_form, owner):
    contact = ContactFactory(owner=owner, emails=["oleg@example.com"], email_opt_in=False)
    post(client, web_form, GOOD)
    contact.refresh_from_db()
    assert contact.email_opt_in and contact.email_opt_in_at is not None
    assert contact.email_opt_in_wording == "Я согласен получать письма о продуктах."
    assert "Запрос цены" in contact.email_opt_in_source
    change = next(entry for entry in history_for(contact, user=owner) if entry.action == "update")
    assert str(change.reason) == "web form"


def test_a_form_without_consent_never_grants_or_withdraws_it(client, web_form, owner):
    web_form.consent_wording = ""
    web_form.save()
    silent = ContactFactory(owner=owner, emails=["oleg@example.com"], email_opt_in=False)
    post(client, web_form, {**GOOD, "consent": ""})
    silent.refresh_from_db()
    assert not silent.email_opt_in
    agreed = ContactFactory(owner=owner, emails=["anna@example.com"], email_opt_in=True,
                            email_opt_in_source="Выставка")
    post(client, web_form, {**GOOD, "email": "anna@example.com", "consent": ""})
    agreed.refresh_from_db()
    assert agreed.email_opt_in and agreed.email_opt_in_source == "Выставка"


def test_a_contact_is_preferred_to_a_lead_then_the_latest_updated(client, web_form, owner):
    LeadFactory(owner=owner, email="oleg@example.com")
    older = ContactFactory(owner=owner, emails=["oleg@example.com"])
    newer = ContactFactory(owner=owner, emails=["other@example.com"], phones=["+79123456789"])
    Contact.objects.filter(pk=older.pk).update(updated_at="2026-01-01T00:00Z")
    post(client, web_form, {**GOOD, "phone": "+7 912 345 67 89"})
    assert WebFormSubmission.objects.get().contact == newer


def test_an_unowned_lead_in_the_queue_gets_the_note_and_notifies_nobody(client, web_form, admin_user):
    lead = LeadFactory(owner=None, team=UserFactory().team, email="oleg@example.com")
    post(client, web_form, GOOD)
    assert WebFormSubmission.objects.get().lead == lead
    assert Activity.objects.get(lead=lead).owner == admin_user
    assert not Notification.objects.exists()


def test_the_honeypot_and_the_limit_come_before_any_matching(client, web_form, owner, settings):
    contact = ContactFactory(owner=owner, emails=["oleg@example.com"], email_opt_in=False)
    post(client, web_form, {**GOOD, "website": "http://spam.example"})
    settings.WEBFORM_PER_IP_PER_HOUR = 1
    assert post(client, web_form, GOOD).status_code == 429
    assert list(WebFormSubmission.objects.values_list("outcome", flat=True).order_by("id")) == ["honeypot", "limited"]
    contact.refresh_from_db()
    assert not contact.email_opt_in and not Activity.objects.exists() and not Notification.objects.exists()
