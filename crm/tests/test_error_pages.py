"""Error pages: the app's own look for 403/404/500, never Django's technical 404 (which lists every URL
pattern) to a signed-in user even with DEBUG on; static files compressed and cached for a year under
hashed names when DEBUG is off (what `make run` and production serve)."""

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

TECHNICAL = "Using the URLconf"


@pytest.mark.parametrize("debug", [True, False])
def test_unknown_address_and_hidden_record_answer_the_apps_404(client, owner, outsider, settings, debug):
    settings.DEBUG = debug
    hidden = AccountFactory(owner=owner, team=owner.team)
    client.force_login(outsider)
    for url in ("/no-such-page/", hidden.get_absolute_url()):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 404
        assert TECHNICAL not in html and "accounts/" not in html.split("<main", 1)[-1].split("</main>")[0]
        assert 'class="empty-state"' in html and "Back to my day" in html


def test_server_error_page_has_the_apps_look_and_name(settings, rf):
    from crm.views import server_error

    assert "Something went wrong" in render_to_string("500.html")  # even with no context at all
    settings.APP_NAME = "Acme Sales"
    response = server_error(rf.get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "bootstrap.min.css" in html and "crm/app.css" in html and "Something went wrong" in html
    assert "Acme Sales" in html


def test_the_app_name_is_configurable(client, owner, settings):
    settings.APP_NAME = "Acme Sales"
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert "<title>" in html and "· Acme Sales</title>" in html and "</i> Acme Sales</a>" in html


def test_the_app_name_is_in_the_mails_the_feed_and_the_sign_in_code_page(client, owner, admin_user, settings):
    from django.core import mail

    from crm.models import OutboxMail
    from crm.services import user_invite

    settings.APP_NAME = "Acme Sales"
    client.post(reverse("password_reset"), {"email": owner.email})
    [reset] = mail.outbox
    assert reset.subject == "Reset your Acme Sales password"
    assert "your Acme Sales account" in reset.body
    invited = user_invite(email="new.rep@example.com", first_name="Ирина", last_name="Орлова", role="sales_rep",
                          team=owner.team, territories=[], invited_by=admin_user, base_url="https://crm.example.com")
    invitation = OutboxMail.objects.get(key=f"invitation:{invited.pk}")
    assert invitation.subject == "You are invited to Acme Sales"
    assert b"invited you to Acme Sales" in bytes(invitation.raw)


def test_static_files_are_compressed_and_cached_for_a_year(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.WHITENOISE_USE_FINDERS = False
    settings.STATICFILES_DIRS = [settings.BASE_DIR / "static"]  # our own files: enough, and quick
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", "--noinput", "--verbosity", "0")
    from django.contrib.staticfiles.storage import staticfiles_storage

    hashed = staticfiles_storage.url("crm/app.css")
    assert hashed.startswith("/static/crm/app.") and hashed != "/static/crm/app.css"  # a content hash
    response = Client().get(hashed, headers={"accept-encoding": "gzip, br"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] in {"gzip", "br"}
    assert "max-age=315360000" in response.headers["Cache-Control"]  # WhiteNoise's "forever" for hashed names
    assert "immutable" in response.headers["Cache-Control"]
    response.close()
