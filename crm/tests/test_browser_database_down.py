"""The database-down page as a person sees it, in the system Chromium: a real server process whose
database does not answer (its DATABASE_URL names a port where nothing listens)."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from crm.tests.celery_helpers import ROOT
from crm.tests.mail_helpers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SERVE = ("from wsgiref.simple_server import make_server\n"
         "from django.core.wsgi import get_wsgi_application\n"
         "import sys\n"
         "make_server('127.0.0.1', int(sys.argv[1]), get_wsgi_application()).serve_forever()\n")


@pytest.fixture
def server_without_database(tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/crm",
           "DJANGO_SETTINGS_MODULE": "crm.settings_test", "DEBUG": "1", "CRM_VAR_DIR": str(tmp_path)}
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "-c", SERVE, str(port)], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/auth/login/", timeout=2)  # noqa: S310 # nosec B310 - our own local server
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def test_a_signed_in_person_sees_the_friendly_page_and_can_try_again(browser, server_without_database):
    context = browser.new_context(base_url=server_without_database, locale="en-GB")
    context.add_cookies([{"name": "sessionid", "value": "s" * 32, "url": server_without_database}])
    page = context.new_page()
    response = page.goto("/accounts/?q=steel")
    assert response.status == 503 and response.headers["retry-after"] == "60"
    expect(page.get_by_role("heading", name="The database is not answering")).to_be_visible()
    expect(page.get_by_text("Try again in a minute.")).to_be_visible()
    expect(page.locator("#database-down")).to_have_css("font-weight", "500")  # the app's stylesheet loaded
    page.get_by_role("link", name="Try again").click()
    page.wait_for_url("**/accounts/?q=steel")
    expect(page.get_by_role("heading", name="The database is not answering")).to_be_visible()
    context.close()
