"""Web-to-lead: an admin builds a form; its public page (reached by a signed form key) turns a
submission into a lead in the form's queue, from the web, attributed to the campaign; the honeypot,
the per-IP limit and a forged key create nothing."""

import pytest
from django.core import signing
from django.urls import reverse

from crm.choices import LeadSource
from marketing import webforms
from marketing.models import LeadAttribution, WebForm, WebFormSubmission
from marketing.tests.factories import CampaignFactory
from sales.models import Lead

pytestmark = pytest.mark.django_db

GOOD = {"first_name": "Олег", "last_name": "Шевченко", "email": "Oleg@Example.com", "company": "ТОВ Ромашка",
        "message": "Нужна цена на 20 лицензий", "consent": "on"}


@pytest.fixture
def web_form(admin_user, marketer):
    return WebForm.objects.create(name="Запрос цены", campaign=CampaignFactory(owner=marketer, name="Выставка"),
                                  team=marketer.team, fields=["company", "message"], language="ru",
                                  consent_wording="Я согласен получать письма о продуктах.",
                                  thank_you="Спасибо! Мы свяжемся с вами.", created_by=admin_user)


def public_url(form) -> str:
    return reverse("marketing:webform_public", args=[webforms.form_key(form.pk)])


def test_a_submission_becomes_an_attributed_lead_in_the_queue(client, web_form, marketer):
    page = client.get(public_url(web_form)).content.decode()
    assert "Я согласен получать письма о продуктах." in page and 'name="phone"' not in page
    assert 'lang="ru"' in page  # the form's language
    response = client.post(public_url(web_form), GOOD, REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 200 and "Спасибо! Мы свяжемся с вами." in response.content.decode()
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.email, lead.company) == ("Олег", "Шевченко", "oleg@example.com",
                                                                          "ТОВ Ромашка")
    assert lead.source == LeadSource.WEB and lead.team_id == marketer.team_id
    assert "Нужна цена на 20 лицензий" in lead.description
    assert "Я согласен получать письма о продуктах." in lead.description  # the consent, with its time
    assert LeadAttribution.objects.get(lead=lead).campaign == web_form.campaign
    submission = WebFormSubmission.objects.get()
    assert (submission.outcome, submission.lead, submission.ip) == ("lead", lead, "203.0.113.5")


def test_bad_input_gets_messages_and_creates_nothing(client, web_form):
    response = client.post(public_url(web_form), {**GOOD, "email": "not-an-address", "consent": ""})
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    assert not Lead.objects.exists()


def test_the_honeypot_thanks_the_robot_and_creates_nothing(client, web_form):
    response = client.post(public_url(web_form), {**GOOD, "website": "http://spam.example"})
    assert "Спасибо! Мы свяжемся с вами." in response.content.decode()
    assert not Lead.objects.exists()
    assert WebFormSubmission.objects.get().outcome == "honeypot"


def test_the_per_ip_limit_holds(client, web_form, settings):
    settings.WEBFORM_PER_IP_PER_HOUR = 3
    for n in range(3):
        client.post(public_url(web_form), {**GOOD, "email": f"x{n}@example.com"}, REMOTE_ADDR="198.51.100.7")
    response = client.post(public_url(web_form), {**GOOD, "email": "x9@example.com"}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 429 and 'id="webform-limited"' in response.content.decode()
    assert Lead.objects.count() == 3
    # Another address is not affected.
    client.post(public_url(web_form), {**GOOD, "email": "other@example.com"}, REMOTE_ADDR="198.51.100.8")
    assert Lead.objects.count() == 4


def test_a_forged_key_or_an_inactive_form_answers_404(client, web_form):
    key = webforms.form_key(web_form.pk)
    for forged in (key[:-2] + ("xy" if not key.endswith("xy") else "zz"), str(web_form.pk),
                   signing.dumps(web_form.pk, salt="marketing.preferences")):
        url = reverse("marketing:webform_public", args=[forged])
        assert client.get(url).status_code == 404
        assert client.post(url, GOOD).status_code == 404
    WebForm.objects.filter(pk=web_form.pk).update(is_active=False)
    assert client.post(public_url(web_form), GOOD).status_code == 404
    assert not Lead.objects.exists() and not WebFormSubmission.objects.exists()


def test_an_admin_builds_a_form_and_others_may_not(client, admin_user, marketer, web_form,
                                                    django_assert_max_num_queries):
    client.force_login(marketer)
    assert client.get(reverse("marketing:webform_list")).status_code == 403
    assert client.post(reverse("marketing:webform_create"), {"name": "X", "thank_you": "x"}).status_code == 403
    client.force_login(admin_user)
    response = client.post(reverse("marketing:webform_create"), {
        "name": "Демо", "campaign": web_form.campaign.pk, "language": "uk", "thank_you": "Дякуємо!",
        "fields_asked": ["phone"], "is_active": "on"})
    assert response.status_code == 302
    created = WebForm.objects.get(name="Демо")
    assert created.fields == ["phone"] and created.created_by == admin_user and created.language == "uk"
    response = client.post(reverse("marketing:webform_create"), {"name": "", "language": "uk", "thank_you": ""})
    assert response.status_code == 200 and WebForm.objects.count() == 2
    for n in range(5):
        WebForm.objects.create(name=f"Форма {n}", thank_you="x", created_by=admin_user)
    with django_assert_max_num_queries(12):
        body = client.get(reverse("marketing:webform_list")).content.decode()
    assert webforms.form_key(created.pk) in body
