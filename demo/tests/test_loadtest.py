"""`make loadtest` (demo/loadtest/): the Locust file loads, and every kind of page its users open
answers 200 for a signed-in seeded user (the timed runs themselves are not part of the suite)."""

import random
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from demo.loadtest import pages

ROOT = Path(__file__).resolve().parents[2]


def test_the_locustfile_loads_and_names_its_user_class():
    locust = Path(sys.executable).parent / "locust"
    result = subprocess.run([str(locust), "-f", str(ROOT / "demo/loadtest/locustfile.py"), "--list"],  # noqa: S603
                            cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "CrmUser" in result.stdout


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["manager1@seed.crm", "rep2@seed.crm", "executive@seed.crm"])
def test_every_page_kind_answers_200_for_a_signed_in_user(email):
    call_command("seed", contacts=150, accounts=30, activities=300, users=12, seed=3, force=True, stdout=StringIO())
    call_command("seed_sales", opportunities=100, board_deals=10, force=True, stdout=StringIO())
    client = Client()
    form = client.get(pages.LOGIN_URL)
    signed_in = client.post(pages.LOGIN_URL, {"username": email, "password": pages.PASSWORD,
                                              "csrfmiddlewaretoken": pages.csrf_token(form.content.decode())})
    assert signed_in.status_code == 302, email
    known = pages.learn_ids(client.get("/accounts/").content.decode(), client.get("/contacts/").content.decode())
    assert known["account"] and known["contact"]
    rng = random.Random(5)
    for kind in pages.PAGES:
        url = kind.url(rng, known)
        assert url is not None, kind.name
        response = client.get(url)
        assert response.status_code == 200, (kind.name, url, response.status_code)
    opened = {pages.pick(rng, known)[0] for _ in range(200)}
    assert opened == {kind.name for kind in pages.PAGES}  # the weights leave no page out
