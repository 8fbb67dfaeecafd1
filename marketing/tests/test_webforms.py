"""Web-to-lead: an admin builds a form; its public page (reached by a signed form key) turns a
submission into a lead in the form's queue, from the web, attributed to the campaign; the honeypot,
the per-IP limit and a forged key create nothing."""

import re

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


# --- Embedding on the customer's site ------------------------------------------------------------------


def embed_url(form) -> str:
    return reverse("marketing:webform_embed", args=[webforms.form_key(form.pk)])


def test_only_the_embedded_form_may_be_framed(client, web_form, admin_user):
    embedded = client.get(embed_url(web_form))
    assert embedded.status_code == 200 and "X-Frame-Options" not in embedded.headers
    assert "frame-ancestors 'self' https: http:" in embedded.headers["Content-Security-Policy"]
    assert "webform_embed.js" in embedded.content.decode()
    # The public page, a forged key and every other page stay unframeable.
    forged = client.get(reverse("marketing:webform_embed", args=["x" + webforms.form_key(web_form.pk)]))
    for response in (client.get(public_url(web_form)), forged, client.get("/auth/login/")):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    client.force_login(admin_user)
    staff_page = client.get(reverse("marketing:webform_edit", args=[web_form.pk]))
    assert staff_page.headers["X-Frame-Options"] == "DENY"


def test_the_listed_sites_are_the_only_ancestors(client, web_form):
    WebForm.objects.filter(pk=web_form.pk).update(embed_origins="https://www.example.com\nhttp://shop.example:8080")
    policy = client.get(embed_url(web_form)).headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://www.example.com http://shop.example:8080;" in policy + ";"
    assert "https:;" not in policy + ";" and "http: " not in policy


def test_the_embedded_form_takes_a_lead_without_a_csrf_token(web_form):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(public_url(web_form), GOOD).status_code == 403  # the CRM's own page keeps CSRF
    response = strict.post(embed_url(web_form), GOOD, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200 and 'id="webform-thanks"' in response.content.decode()
    assert "X-Frame-Options" not in response.headers  # the thank-you stays in the frame
    lead = Lead.objects.get()
    assert lead.email == "oleg@example.com" and LeadAttribution.objects.get(lead=lead).campaign == web_form.campaign


def test_the_embedded_form_keeps_the_honeypot_and_the_limit(client, web_form, settings):
    client.post(embed_url(web_form), {**GOOD, "website": "http://spam.example"}, REMOTE_ADDR="198.51.100.9")
    assert not Lead.objects.exists()
    settings.WEBFORM_PER_IP_PER_HOUR = 2
    client.post(embed_url(web_form), {**GOOD, "email": "a@example.com"}, REMOTE_ADDR="198.51.100.9")
    response = client.post(embed_url(web_form), {**GOOD, "email": "b@example.com"}, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 429 and Lead.objects.count() == 1
    assert "X-Frame-Options" not in response.headers


@pytest.mark.parametrize("line", ["https://example.com/path", "example.com", "javascript:alert(1)", "https://*.example.com",
                                  "https://a.example 'unsafe-inline'", "https://a.example;script-src *",
                                  "ftp://example.com", "https://user:pw@example.com", "https://example.com:99999"])
def test_a_bad_site_address_is_refused_with_a_message(client, admin_user, web_form, line):
    client.force_login(admin_user)
    response = client.post(reverse("marketing:webform_edit", args=[web_form.pk]), {
        "name": web_form.name, "language": "ru", "thank_you": "x", "embed_origins": f"https://ok.example\n{line}"})
    assert response.status_code == 200 and "is not a site address" in response.content.decode()
    web_form.refresh_from_db()
    assert web_form.embed_origins == ""


def test_site_addresses_are_normalised_and_the_snippets_shown(client, admin_user, web_form):
    client.force_login(admin_user)
    response = client.post(reverse("marketing:webform_edit", args=[web_form.pk]), {
        "name": web_form.name, "language": "ru", "thank_you": "x", "fields_asked": ["company"], "is_active": "on",
        "consent_wording": "Согласен", "embed_origins": "HTTPS://WWW.Example.com/\n\nhttps://www.example.com\nhttps://пример.рф"})
    assert response.status_code == 302
    web_form.refresh_from_db()
    assert web_form.embed_origins == "https://www.example.com\nhttps://xn--e1afmkfd.xn--p1ai"
    body = client.get(reverse("marketing:webform_edit", args=[web_form.pk])).content.decode()
    src = re.search(r'src=&quot;(http://testserver/marketing/f/[^&]+/embed/)&quot;', body).group(1)
    assert webforms.form_for_key(src.split("/")[-3]) == web_form and "&lt;iframe" in body
    assert 'event.origin !== &quot;http://testserver&quot;' in body
    assert "name=&quot;company&quot;" in body and "name=&quot;website&quot;" in body and "Согласен" in body
    assert "Компания" in body  # the plain form's labels in the form's language
